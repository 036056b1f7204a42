// rt::Platform on Ringlet: rdtime for the clock and the wait syscall to
// sleep until a notification (device interrupt, channel) or a deadline.
//
// One instance per app (the libOS resources own it), shared by every device
// the app drives: each device registers a SleepHook on its own notification
// bit, so the network and the disk can wake the same core.
#pragma once

#include <stdint.h>

#include "libos/backend/sleep_hooks.h"
#include "libos/rt/platform.h"
#include "ringlet/result.h"

namespace ringlet::backend {

// What one core's sleep path did (each core counts its own; read by
// ringlet_sleep_stats, printed by echo --stats): how often the executor
// found nothing to run, how often it then slept, and the doorbells the
// core rang for others. The instructions inside the wait are rdinstret's
// delta: exact under QEMU -icount with one hart only - QEMU's instret is
// then the machine's instruction clock, shared by every hart and running
// on while the harts idle, so with several harts it counts the others'
// instructions too.
struct SleepStats {
    uint64_t blocks = 0;             // Platform::block() calls: the core had nothing to run
    uint64_t refused = 0;            // ... where arming found work (no wait)
    uint64_t waits = 0;              // wait syscalls
    uint64_t wait_instructions = 0;  // rdinstret across the wait syscalls (asleep, waking)
    uint64_t doorbells = 0;          // doorbells rung for other cores (a syscall each)
    uint64_t resleeps = 0;           // waits after a wake-up for another core's queue only
    uint64_t capped = 0;             // waits ended by the sleep cap (set_max_sleep_ns), nothing else
};
// The calling core's.
extern thread_local SleepStats t_sleep_stats;

class RingletPlatform final : public rt::Platform {
public:
    constexpr RingletPlatform() = default;
    RingletPlatform(const RingletPlatform&) = delete;
    RingletPlatform& operator=(const RingletPlatform&) = delete;

    uint64_t now_ns() override;
    // Arms every hook, then sleeps in the wait syscall until one of their
    // notification bits or the deadline; afterwards each hook whose bit
    // fired is serviced. If a hook reports pending work it returns at once;
    // if every hook that fired was woken for nothing (another core's
    // queue), it arms and sleeps again.
    // With no deadline and no hook, nothing could wake the core, so it
    // sleeps 1 ms and lets the caller re-check.
    void block(uint64_t deadline_ns) override;

    // A core whose device interrupts reach it only through another core
    // (its queue pair's line is core 0's: ringlet_resources.cc) sleeps at
    // most `ns` at a time, so it polls its own queues again even if that
    // core stops polling - its app task spinning - and never rings it.
    // 0 (the default): no cap.
    void set_max_sleep_ns(uint64_t ns) { m_max_sleep_ns = ns; }

    // Adds a device's hook on its notification bit (SleepHooks::add).
    Result<void> add_sleep_hook(SleepHook& hook, uint32_t bit) { return m_hooks.add(hook, bit); }
    uint64_t notification_mask() const { return m_hooks.mask(); }

private:
    SleepHooks m_hooks;
    uint64_t m_max_sleep_ns = 0;
};

}  // namespace ringlet::backend

// The calling core's sleep counters (above): 0, or EINVAL for a null out.
extern "C" int ringlet_sleep_stats(ringlet::backend::SleepStats* out);
