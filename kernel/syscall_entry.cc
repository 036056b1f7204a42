// The system call and user-fault entry points (called from the trap path).
// Each call decodes and checks its arguments before doing anything.
#include "kernel/app_loader.h"
#include "kernel/arch.h"
#include "kernel/cap/cap_syscalls.h"
#include "kernel/console/console.h"
#include "kernel/lib/symbol_table.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {
namespace {

constexpr size_t kMaxPrint = 256;

Result<uint64_t> sys_debug_print(HartLocal& local, uint64_t len, uint64_t ptr) {
    if (len > kMaxPrint) return Error::InvalidArgument;
    char text[kMaxPrint];
    TRY(local.sched.current()->space.copy_in(text, ptr, len));
    kprintf("%.*s", static_cast<int>(len), text);
    return len;
}

// dispatcher_start: a0 = name pointer, a1 = name length, a2 = hart index.
Result<uint64_t> sys_dispatcher_start(HartLocal& local, uint64_t ptr, uint64_t len, uint64_t hart) {
    if (len == 0 || len >= Dispatcher::kNameMax) return Error::InvalidArgument;
    char name[Dispatcher::kNameMax];
    TRY(local.sched.current()->space.copy_in(name, ptr, len));
    for (uint64_t i = 0; i < len; ++i)
        if (name[i] == '\0' || name[i] == ' ' || name[i] == '/') return Error::InvalidArgument;
    AppStart start{name, len, "", 0, hart, timebase_frequency()};
    Dispatcher* d = TRY(start_app(start));
    return d->id;
}

Result<uint64_t> sys_wait(HartLocal& local, uint64_t mask, uint64_t deadline) {
    Dispatcher* d = local.sched.current();
    uint64_t ready = d->notifications & mask;
    if (ready || (deadline && deadline <= arch::now())) {
        d->notifications &= ~ready;
        return ready;
    }
    if (!mask && !deadline) return Error::InvalidArgument;  // would sleep forever
    // Blocks: the result is filled in when the dispatcher is woken
    // (on_return_to_user delivers it through wake_result below).
    d->wait_mask = mask;
    d->wake_deadline = deadline;
    d->state = DispatcherState::Blocked;
    return 0;
}

}  // namespace

void on_syscall(TrapFrame& frame) {
    HartLocal& local = *arch::hart_local();
    const uint64_t n = arch::syscall_number(frame);
    auto arg = [&](int i) { return arch::syscall_arg(frame, i); };
    Result<uint64_t> r = Error::Unsupported;
    switch (n) {
    case kSysDebugPrint: r = sys_debug_print(local, arg(0), arg(1)); break;
    case kSysExit: end_current(local, static_cast<int64_t>(arg(0))); return;
    case kSysWait: r = sys_wait(local, arg(0), arg(1)); break;
    case kSysDispatcherStart: r = sys_dispatcher_start(local, arg(0), arg(1), arg(2)); break;
    default: {
        const uint64_t args[6] = {arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)};
        r = cap_syscall(*local.sched.current(), n, args);
        break;
    }
    }
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
