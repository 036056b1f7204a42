#include "libos/backend/ringlet_platform.h"

#include <errno.h>

#include "arch/riscv64/user_syscall.h"
#include "libos/rt/libos_entry.h"
#include "ringlet/syscall_abi.h"
#include "user/rt/syscall.h"

namespace ringlet::backend {
namespace {

// ticks <-> ns without overflow for any timebase up to a few GHz.
uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz) {
    return ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
}
uint64_t ns_to_ticks(uint64_t ns, uint64_t hz) { return ns / 1000000000ull * hz + ns % 1000000000ull * hz / 1000000000ull; }

}  // namespace

thread_local SleepStats t_sleep_stats;  // per core: each counts its own sleeps

uint64_t RingletPlatform::now_ns() {
    const uint64_t ticks = arch::read_time();
    // Read on every executor round: one multiply where a tick is a whole
    // number of nanoseconds (two divisions otherwise).
    if (const uint64_t k = user::ns_per_tick(); k != 0) [[likely]] return ticks * k;
    return ticks_to_ns(ticks, user::timebase_hz());
}

void RingletPlatform::block(uint64_t deadline_ns) {
    const uint64_t hz = user::timebase_hz();
    uint64_t deadline = deadline_ns == rt::kForever ? 0 : ns_to_ticks(deadline_ns, hz) + 1;
    if (deadline == 0 && m_hooks.mask() == 0) deadline = arch::read_time() + hz / 1000;
    bool capped = false;
    if (m_max_sleep_ns != 0) {  // a core on its own pair (ringlet_resources.cc)
        const SleepDeadline until = sleep_deadline(deadline, arch::read_time(), ns_to_ticks(m_max_sleep_ns, hz));
        deadline = until.ticks;
        capped = until.capped;
    }
    SleepStats& st = t_sleep_stats;
    ++st.blocks;
    for (;;) {
        if (!m_hooks.arm()) {  // work is already pending
            ++st.refused;
            return;
        }
        // Errors are impossible here except a bad mask, which the wait
        // reports by returning at once; the executor re-checks either way.
        // The two reads around the syscall are the only ones here
        // (qemu.profile finds them by function to subtract the wait).
        const uint64_t before = arch::read_instret();
        auto fired = arch::user_syscall(kSysWait, m_hooks.mask(), deadline);
        st.wait_instructions += arch::read_instret() - before;
        ++st.waits;
        if (capped && !fired.error && fired.value == 0) ++st.capped;
        if (fired.error || !m_hooks.dispatch(fired.value)) return;
        // Woken for another core's queue only (the hook has rung that
        // core): nothing here for the executor, so arm and sleep again -
        // arming looks at everything the executor's round would (device
        // rings, the mesh), and the deadline is the same.
        ++st.resleeps;
    }
}

}  // namespace ringlet::backend

extern "C" unsigned long long ringlet_demi_sleep_instructions(void) {
    ringlet::rt::LibosEntry in_libos;
    return ringlet::backend::t_sleep_stats.wait_instructions;
}

extern "C" int ringlet_sleep_stats(ringlet::backend::SleepStats* out) {
    ringlet::rt::LibosEntry in_libos;
    if (out == nullptr) return EINVAL;
    *out = ringlet::backend::t_sleep_stats;
    return 0;
}
