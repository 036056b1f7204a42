// The system call and user-fault entry points (called from the trap path).
// A system call is decoded (kernel/syscall/decode.h) before anything is done.
#include "arch/riscv64/layout.h"
#include "kernel/app_loader.h"
#include "kernel/arch.h"
#include "kernel/cap/cap_syscalls.h"
#include "kernel/console/console.h"
#include "kernel/mm/map_perm.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "kernel/syscall/decode.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {
namespace {

// The caller's address space as the decoder sees it.
class SpaceMemory final : public UserMemory {
public:
    explicit SpaceMemory(const AddressSpace& space) : m_space(space) {}
    Result<void> copy_in(void* dst, uint64_t src, size_t size) const override {
        return m_space.copy_in(dst, src, size);
    }
    Result<void> check_writable(uint64_t addr, size_t size) const override {
        for (uint64_t page = addr & ~(layout::kPageSize - 1); page < addr + size; page += layout::kPageSize)
            TRY(m_space.translate_user(page, kMapWrite));
        return {};
    }

private:
    const AddressSpace& m_space;
};

Result<uint64_t> wait(Dispatcher& d, const WaitRequest& req) {
    uint64_t ready = d.notifications & req.mask;
    if (ready || (req.deadline && req.deadline <= arch::now())) {
        d.notifications &= ~ready;
        return ready;
    }
    // Blocks; the result is delivered when the scheduler wakes it
    // (Scheduler::wake_due sets wake_value).
    d.wait_mask = req.mask;
    d.wake_deadline = req.deadline;
    d.state = DispatcherState::Blocked;
    return 0;
}

// Load, hand over the capabilities (under the lock, which loading must not
// hold: a failed load releases the app, and that takes the lock), launch.
Result<uint64_t> dispatcher_start(Dispatcher& starter, const DispatcherStartRequest& req) {
    AppStart start{req.name, req.name_len, "", 0, req.hart, timebase_frequency()};
    Dispatcher* app = TRY(prepare_app(start));
    Result<uint64_t> cap = Error::Unsupported;
    {
        CapsGuard guard;
        cap = hand_over_caps(starter, *app, req.gift, req.gift_rights);
    }
    if (!cap) {
        app->state = DispatcherState::Dead;
        discard_dispatcher(app);
        return cap.error();
    }
    launch_app(app, req.hart);
    return cap;
}

// Calls whose invoke uses capabilities (and so runs under the CapSpace lock).
bool uses_caps(SyscallNumber n) {
    return n != kSysDebugPrint && n != kSysExit && n != kSysWait && n != kSysDispatcherStart;
}

// Carries out a decoded request that does not touch capabilities.
Result<uint64_t> invoke(HartLocal& local, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysDebugPrint:
        kprintf("%.*s", static_cast<int>(req.debug_print.len), req.debug_print.text);
        return req.debug_print.len;
    case kSysExit: end_current(local, req.exit.code); return 0;
    case kSysWait: return wait(d, req.wait);
    case kSysDispatcherStart: return dispatcher_start(d, req.dispatcher_start);
    default: return Error::Unsupported;
    }
}

}  // namespace

// Decode (every argument, capability and user pointer checked, user data
// copied in once), then invoke. For capability calls the CapSpace lock is
// held across both, so what decode found is still there when invoke uses it;
// the others run unlocked (starting an app may itself need the lock).
void on_syscall(TrapFrame& frame) {
    HartLocal& local = *arch::hart_local();
    Dispatcher& d = *local.sched.current();
    SyscallArgs args{arch::syscall_number(frame), {}};
    for (int i = 0; i < 6; ++i) args.a[i] = arch::syscall_arg(frame, i);
    Result<uint64_t> r = Error::Unsupported;
    Result<SyscallRequest> req = Error::Unsupported;
    {
        CapsGuard guard;
        SpaceMemory memory(d.space);
        DecodeContext ctx{&guard.caps(), static_cast<uint16_t>(d.cap_table), &memory, layout::kUserTop,
                          static_cast<uint32_t>(hart_count()), static_cast<uint32_t>(claimable_device_count())};
        req = decode_syscall(args, ctx);
        if (req && uses_caps(req->number)) r = invoke_cap_syscall(d, *req);
    }
    if (!req) r = req.error();
    else if (!uses_caps(req->number)) r = invoke(local, d, *req);
    if (d.state == DispatcherState::Dead) return;  // exit: no one to answer
    arch::set_syscall_result(frame, r.ok() ? 0 : static_cast<uint64_t>(r.error()), r.ok() ? *r : 0);
}

void on_user_fault(TrapFrame& frame, const char* cause) {
    HartLocal& local = *arch::hart_local();
    Dispatcher* d = local.sched.current();
    kprintf("app %s (hart %u) killed: %s at pc %p, address %p\n", d->name, local.hart_id, cause,
            reinterpret_cast<void*>(arch::fault_pc(frame)), reinterpret_cast<void*>(arch::fault_address(frame)));
    end_current(local, -1);
}

}  // namespace ringlet
