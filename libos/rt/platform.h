// Platform: the OS-specific half of the executor, kept to two calls.
//
// Linux implements it with clock_gettime + epoll_wait (libos/backend); Ringlet
// will implement it with rdtime + the wait syscall. The executor calls
// block() only when no task is ready, so an idle core sleeps instead of
// spinning.
#pragma once

#include <stdint.h>

namespace ringlet::rt {

inline constexpr uint64_t kForever = ~uint64_t{0};

class Platform {
public:
    // Monotonic time in nanoseconds. Pure, as block(): with no default
    // body the compiler does not test every call against one (speculative
    // devirtualization) on the executor's per-round path.
    virtual uint64_t now_ns() = 0;

    // Sleeps until a device notification arrives or now_ns() >= deadline_ns
    // (kForever: no deadline). May return early; the caller re-checks.
    // Notifications are delivered by waking tasks (Waker::wake), never by
    // resuming them here.
    virtual void block(uint64_t deadline_ns) = 0;

protected:
    ~Platform() = default;
};

}  // namespace ringlet::rt
