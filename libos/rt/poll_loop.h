// poll_loop: the body of a fast-path poll task (device rings, epoll).
//
// Each turn handles at most the executor's poll_batch items and yields, so a
// busy device cannot starve app tasks; after idle_poll_rounds empty turns it
// parks until the core comes back from Platform::block(), so an idle device
// does not keep the core spinning.
#pragma once

#include <stdint.h>

#include "libos/rt/executor.h"
#include "libos/rt/task.h"

namespace ringlet::rt {

// What a poll task polls. poll(max) handles up to max items and returns how
// many it handled; stop() ends the loop (checked once per turn).
class PollSource {
public:
    // Pure: with no default body the compiler does not guess a target
    // and test for it at every call (speculative devirtualization), a
    // compare on the per-round path.
    virtual uint32_t poll(uint32_t max) = 0;
    virtual bool stop() { return false; }

protected:
    ~PollSource() = default;
};

// Runs `src` until src.stop(); spawn it with TaskClass::Poll.
inline Task<void> poll_loop(Executor& exec, PollSource& src) {
    uint32_t idle = 0;
    while (!src.stop()) {
        const uint32_t n = src.poll(exec.config().poll_batch);
        if (n > 0) {
            idle = 0;
            co_await exec.yield();
        } else if (++idle >= exec.config().idle_poll_rounds) {
            idle = 0;
            co_await exec.wait_for_notification();
        } else {
            co_await exec.yield();
        }
    }
}

}  // namespace ringlet::rt
