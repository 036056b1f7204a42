// SleepHooks: the devices one core arms before it sleeps and services after
// it wakes, each on its own notification bit. RingletPlatform holds one;
// plain logic, so it is tested on the host.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::backend {

// A device the core must arm before sleeping and service after waking.
class SleepHook {
public:
    // Turns device interrupts on; false if work arrived meanwhile (the core
    // must not sleep then).
    virtual bool before_sleep() = 0;
    // The wait ended with this hook's notification bit set: acknowledge the
    // device (lower its interrupt line). The kernel's side needs no call:
    // the next wait for the bit completes the interrupt at the PLIC.
    virtual void after_wake() = 0;
    // After after_wake(): true if the wake-up brought this core nothing to
    // do - its device's one interrupt line was raised for another core's
    // queue (virtio-mmio has one line for all queues). The core may then
    // arm and sleep again without running its executor.
    virtual bool woke_for_nothing() { return false; }

protected:
    ~SleepHook() = default;
};

// The wait's deadline in timer ticks (0: none) for a sleep asked to end at
// `deadline` (0: none) that may last at most `cap` ticks from `now` (0: no
// cap): the earlier of the two. `capped` says whether the cap is what ends it.
struct SleepDeadline {
    uint64_t ticks;
    bool capped;
};
constexpr SleepDeadline sleep_deadline(uint64_t deadline, uint64_t now, uint64_t cap) {
    if (cap == 0) return {deadline, false};
    const uint64_t limit = now + cap;
    if (deadline != 0 && deadline <= limit) return {deadline, false};
    return {limit, true};
}

class SleepHooks {
public:
    static constexpr uint32_t kMaxHooks = 8;

    // Adds `hook`, woken by notification bit `bit` (the bit its device's
    // interrupt is bound to); the hook must outlive this table.
    // InvalidArgument for bit >= 64; Exists if the bit is taken; Full
    // beyond kMaxHooks.
    Result<void> add(SleepHook& hook, uint32_t bit) {
        if (bit >= 64) return Error::InvalidArgument;
        const uint64_t mask = 1ull << bit;
        if (m_mask & mask) return Error::Exists;
        if (m_count == kMaxHooks) return Error::Full;
        m_hooks[m_count++] = Entry{&hook, mask};
        m_mask |= mask;
        return {};
    }

    // Arms every hook in the order added; false as soon as one reports
    // pending work (the core must not sleep). Hooks armed before it stay
    // armed: at worst their interrupt ends the next sleep early.
    bool arm() {
        for (uint32_t i = 0; i < m_count; ++i) {
            if (!m_hooks[i].hook->before_sleep()) return false;
        }
        return true;
    }

    // Services each hook whose bit is in `fired` (what the wait returned).
    // True if something fired and every hook that did says it woke the core
    // for nothing (woke_for_nothing); false for a deadline (nothing fired)
    // or a bit no hook owns.
    bool dispatch(uint64_t fired) {
        bool nothing = fired != 0 && (fired & ~m_mask) == 0;
        for (uint32_t i = 0; i < m_count; ++i) {
            if (!(fired & m_hooks[i].bit)) continue;
            m_hooks[i].hook->after_wake();
            nothing = nothing && m_hooks[i].hook->woke_for_nothing();
        }
        return nothing;
    }

    // The notification bits that end a sleep.
    uint64_t mask() const { return m_mask; }

private:
    struct Entry {
        SleepHook* hook;
        uint64_t bit;  // as a mask
    };
    Entry m_hooks[kMaxHooks] = {};
    uint32_t m_count = 0;
    uint64_t m_mask = 0;
};

}  // namespace ringlet::backend
