// rt::Platform on Ringlet: rdtime for the clock and the wait syscall to
// sleep until a notification (device interrupt, channel) or a deadline.
#pragma once

#include <stdint.h>

#include "libos/rt/platform.h"

namespace ringlet::backend {

// A device the core must arm before sleeping and service after waking.
class SleepHook {
public:
    // Turns device interrupts on; false if work arrived meanwhile (the core
    // must not sleep then).
    virtual bool before_sleep() = 0;
    // The wait ended with notification bits `fired` (0: the deadline).
    virtual void after_wake(uint64_t fired) = 0;

protected:
    ~SleepHook() = default;
};

class RingletPlatform final : public rt::Platform {
public:
    // `notification_mask`: which notification bits end a sleep.
    explicit RingletPlatform(uint64_t notification_mask = 0) : m_mask(notification_mask) {}
    uint64_t now_ns() override;
    // Sleeps in the wait syscall until a notification in the mask or the
    // deadline. With no deadline and no notifications to wait for, nothing
    // could wake the core, so it sleeps 1 ms and lets the caller re-check.
    void block(uint64_t deadline_ns) override;
    void set_notification_mask(uint64_t mask) { m_mask = mask; }
    void set_sleep_hook(SleepHook* hook) { m_hook = hook; }

private:
    uint64_t m_mask;
    SleepHook* m_hook = nullptr;
};

}  // namespace ringlet::backend
