#include "libos/backend/owner_upcall.h"

#include "arch/riscv64/user_tls.h"

#include "libos/rt/executor.h"
#include "libos/rt/libos_entry.h"
#include "user/rt/syscall.h"
#include "user/rt/upcall.h"

namespace ringlet::backend {
namespace {

void serve_other_cores(void*) {
    // No LibosEntry: the kernel enters no upcall while one runs, and a
    // counted entry here would make the next look think the app polls.
    if (rt::Executor* e = rt::Executor::current()) (void)e->poll_devices(kOwnerUpcallRounds);
}

}  // namespace

void arm_owner_upcall() {
    // The entry marks reach the area as 0(tp) (libos_entry.h): it must be there.
    if (static_cast<void*>(&rt::t_libos_area) != arch::thread_pointer()) {
        user::printf("libos: core 0: no upcall: the libOS's area is not at 0(tp) (user.ld)\n");
        return;
    }
    const uint64_t ticks = user::timebase_hz() / (1'000'000'000 / kOwnerUpcallNs);
    if (auto r = user::arm_upcall(&serve_other_cores, nullptr, rt::t_libos_area, ticks); !r) {
        user::printf("libos: core 0: no upcall (%s): a core 0 app that spins stalls the other cores\n",
                     error_name(r.error()));
    }
}

void disarm_owner_upcall() { user::disarm_upcall(); }

}  // namespace ringlet::backend
