// This core's upcall (include/ringlet/syscall_abi.h kSysUpcall; the kernel's
// side: kernel/sched/upcall.h). A libOS whose core others depend on - the
// one that owns a single-queue NIC and hands every other core its frames -
// arms one so that an app whose code runs on and on without calling it
// (a spinning task) does not stall the other cores: once a period passes
// with the app's code running throughout, the kernel interrupts it, runs
// `service(ctx)` on a stack of its own, and resumes the app exactly where it
// was. What the libOS may do there is its business: the kernel only
// promises the app was outside the libOS (an even `area.seq`) when it entered.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"
#include "ringlet/syscall_abi.h"

namespace ringlet::user {

using UpcallService = void (*)(void* ctx);

// Bytes of each core's upcall stack.
inline constexpr uint64_t kUpcallStackBytes = 32 * 1024;

// Arms this core's upcall: `service(ctx)` at most once a period of
// `period_ticks` in which `area` (which the libOS keeps, thread-local to
// this core, for as long as it is armed) shows its code was not entered.
// OutOfMemory if no stack can be had; what the kernel's check says
// otherwise (InvalidArgument for a zero period).
Result<void> arm_upcall(UpcallService service, void* ctx, const UpcallArea& area, uint64_t period_ticks);
// No more upcalls on this core (its stack stays for a later arm).
void disarm_upcall();
// Upcalls this core has run.
uint64_t upcalls_run();

}  // namespace ringlet::user
