// The system call and user-fault entry points (called from the trap path).
// A system call is decoded (kernel/syscall/decode.h) before anything is done,
// then invoked by its family (kernel/syscall/invoke.h); wait, exit and
// debug_print, which name no capability, are carried out here.
#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/cap/machine_caps.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/mm/map_perm.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "kernel/syscall/decode.h"
#include "kernel/syscall/invoke.h"
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

// wait's invoke: returns the bits in the mask that are pending (clearing
// them), or 0 once the deadline has passed; otherwise blocks the caller
// (Scheduler::wake_due delivers the result when it wakes it).
inline Result<uint64_t> wait(Dispatcher& d, const WaitRequest& req) {
    uint64_t ready = d.notifications & req.mask;
    if (ready || (req.deadline && req.deadline <= arch::now())) {
        d.notifications &= ~ready;
        return ready;
    }
    d.wait_mask = req.mask;
    d.wake_deadline = req.deadline;
    d.state = DispatcherState::Blocked;
    return 0;
}

void set_result(TrapFrame& frame, const Result<uint64_t>& r) {
    arch::set_syscall_result(frame, r.ok() ? 0 : static_cast<uint64_t>(r.error()), r.ok() ? *r : 0);
}

// A wait for the bit of a device interrupt the caller was given earlier
// first lets the device's next interrupt in (complete_delivered_irqs): the
// app waits for the bit again only once it has serviced the device, so one
// syscall per sleep/wake cycle. (on_syscall handles a wait with no
// interrupt in service inline.)
[[gnu::noinline]] bool wait_completing_irqs(HartLocal& local, TrapFrame& frame, Dispatcher& d,
                                            const WaitRequest& req) {
    complete_delivered_irqs(local, d, req.mask);
    set_result(frame, wait(d, req));
    return return_to_user_keeps_current(local);
}

// The calls about dispatchers, run after the capability locks are dropped
// (they take the dispatcher pool's lock, and starting an app takes the
// capability locks itself).
constexpr bool is_dispatcher_call(SyscallNumber n) {
    return n == kSysDispatcherStart || n == kSysDispatcherSpan || n == kSysAppHarts;
}

// exit and debug_print, which touch no capability either: decoded
// (kernel/syscall/decode.h) and carried out without any capability lock and
// without a SyscallRequest, like wait. Safe unlocked because each touches
// only the caller and its own hart: wait and exit change the caller's
// dispatcher, which only this hart touches; the debug text is read through
// the caller's page table, whose tables live as long as the space (unmap
// only clears leaves) and which another hart changes only by clearing a
// leaf (a revoke unmapping a frame cap); the frame behind a cleared leaf is
// freed only after every hart has acknowledged the TLB shootdown, and this
// hart acknowledges only with interrupts on (idle or U-mode), never inside
// this call — so whatever the walk finds stays the app's memory until the
// call ends, just as for the MMU.
Result<uint64_t> exit_or_print(HartLocal& local, Dispatcher& d, const SyscallArgs& args) {
    if (args.number == kSysExit) {
        end_current(local, TRY(decode_exit(args)).code);
        return 0;
    }
    DebugPrintRequest req;
    TRY(decode_debug_print(args, SpaceMemory(domain_of(d).space), layout::kUserTop, req));
    kprintf("%.*s", static_cast<int>(req.len), req.text);
    return req.len;
}

// The family that carries out `req` (kernel/syscall/invoke.h).
Result<uint64_t> invoke_locked(CapGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysCapIdentify:
    case kSysCapMint:
    case kSysCapDelete:
    case kSysCapRevoke: return invoke_cap_call(guard, d, req);
    case kSysFrameMap:
    case kSysFrameUnmap:
    case kSysFramePhys: return invoke_frame_call(guard, d, req);
    case kSysChannelCreate:
    case kSysChannelControl: return invoke_channel_call(guard, d, req);
    case kSysIrqControl: return invoke_device_call(guard, d, req);
    default: return Error::Unsupported;  // the capability-free calls never come here
    }
}

// decode_syscall for `d` under `guard`.
Result<SyscallRequest> decode_locked(CapGuard& guard, Dispatcher& d, const SyscallArgs& args) {
    SpaceMemory memory(domain_of(d).space);
    DecodeContext ctx{&guard.caps(), table_of(d), &memory, layout::kUserTop, static_cast<uint32_t>(hart_count())};
    return decode_syscall(args, ctx);
}

// frame_alloc: decoded (the cap, its rights and budget) under the caller's
// table lock; the frames taken and zeroed with no lock held; decoded again
// under the derivation lock (the cap or the budget may have gone meanwhile;
// then the frames go back) and drawn.
Result<uint64_t> frame_alloc(Dispatcher& d, const SyscallArgs& args) {
    uint64_t pages;
    {
        CapGuard guard(table_of(d), CapScope::Table);
        pages = TRY(decode_locked(guard, d, args)).frame_alloc.pages;
    }
    ZeroedFrames zeroed = TRY(ZeroedFrames::take(pages));  // outlives the guard: a refusal frees unlocked
    CapGuard guard(table_of(d), CapScope::Tree);
    SyscallRequest req = TRY(decode_locked(guard, d, args));
    return invoke_frame_alloc(guard, d, req.frame_alloc, zeroed);
}

// Decode then invoke, for a call that names capabilities, under the locks
// lock_scope() names for it, held across both, so what decode found is
// still there when invoke uses it; dispatcher_start runs its invoke unlocked
// (starting an app takes the locks itself).
Result<uint64_t> invoke_with_caps(Dispatcher& d, const SyscallArgs& args) {
    if (args.number == kSysFrameAlloc) return frame_alloc(d, args);
    Result<SyscallRequest> req = Error::Unsupported;
    {
        CapGuard guard(table_of(d), lock_scope(args.number));
        req = decode_locked(guard, d, args);
        if (req && !is_dispatcher_call(req->number)) return invoke_locked(guard, d, *req);
    }
    if (!req) return req.error();
    if (req->number == kSysDispatcherSpan) return invoke_dispatcher_span(d, req->dispatcher_span);
    if (req->number == kSysAppHarts) return domain_placement_harts(d);
    return invoke_dispatcher_start(d, req->dispatcher_start);
}

// upcall (kernel/sched/upcall.h): touches only the caller's own dispatcher,
// and reads its user memory as debug_print does. A return takes the switch
// path, which loads every interrupted register back (no result: the
// interrupted code's a0/a1 come back as they were).
bool upcall_call(HartLocal& local, TrapFrame& frame, Dispatcher& d, const SyscallArgs& args) {
    Result<UpcallRequest> req = decode_upcall(args, SpaceMemory(domain_of(d).space), layout::kUserTop);
    Result<bool> stays = req ? invoke_upcall(d, *req) : Result<bool>(req.error());
    if (stays && !*stays) return false;
    set_result(frame, stays ? Result<uint64_t>(0) : Result<uint64_t>(stays.error()));
    return return_to_user_keeps_current(local);
}

// Every call but wait (on_syscall's fast path).
[[gnu::noinline]] bool on_other_syscall(HartLocal& local, TrapFrame& frame) {
    SyscallArgs args;
    arch::syscall_args(frame, args.number, args.a);
    Dispatcher& d = *local.sched.current();
    if (args.number == kSysUpcall) return upcall_call(local, frame, d, args);
    Result<uint64_t> r =
        is_capability_free(args.number) ? exit_or_print(local, d, args) : invoke_with_caps(d, args);
    if (d.state != DispatcherState::Dead) set_result(frame, r);  // exit: no one to answer
    return return_to_user_keeps_current(local);
}

}  // namespace

// Every call is decoded (every argument, capability and user pointer
// checked, user data copied in once), then invoked. wait, the call an app
// makes on every sleep, is decoded and invoked right here: no lock, no
// request bigger than its two words, no call it does not need.
bool on_syscall(TrapFrame& frame) {
    HartLocal& local = *arch::hart_local();
    SyscallArgs args;
    arch::syscall_args(frame, args.number, args.a);
    if (args.number != kSysWait) return on_other_syscall(local, frame);
    Dispatcher& d = *local.sched.current();
    Result<WaitRequest> req = decode_wait(args);
    if (req && (d.irq_in_service & req->mask)) return wait_completing_irqs(local, frame, d, *req);
    set_result(frame, req ? wait(d, *req) : Result<uint64_t>(req.error()));
    return return_to_user_keeps_current(local);
}

void on_user_fault(TrapFrame& frame, const char* cause) {
    HartLocal& local = *arch::hart_local();
    Dispatcher* d = local.sched.current();
    kprintf("app %s (hart %u) killed: %s at pc %p, address %p\n", d->name, local.hart_id, cause,
            reinterpret_cast<void*>(arch::fault_pc(frame)), reinterpret_cast<void*>(arch::fault_address(frame)));
    end_current(local, -1);
}

}  // namespace ringlet
