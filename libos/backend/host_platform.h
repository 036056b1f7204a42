// Host platforms: the Linux halves of rt::Platform.
//   SleepPlatform - clock_gettime + a bounded nanosleep (loopback: no devices)
//   EpollPlatform - clock_gettime + epoll_wait, waking socket Notifiers
#pragma once

#include <stdint.h>

#include "libos/rt/notifier.h"
#include "libos/rt/platform.h"
#include "libos/rt/poll_loop.h"
#include "ringlet/result.h"

namespace ringlet::backend {

uint64_t monotonic_ns();

class SleepPlatform final : public rt::Platform {
public:
    uint64_t now_ns() override { return monotonic_ns(); }
    // Nothing outside the process can wake a loopback app, so this sleeps to
    // the deadline, at most 1 ms at a time (callers re-check and re-block).
    void block(uint64_t deadline_ns) override;
};

// What an epoll registration points at: two edges to wake tasks on.
struct EpollTarget {
    rt::Notifier readable;
    rt::Notifier writable;
};

class EpollPlatform final : public rt::Platform, public rt::PollSource {
public:
    static Result<EpollPlatform*> create();
    ~EpollPlatform();
    uint64_t now_ns() override { return monotonic_ns(); }
    // epoll_wait until an event or the deadline; events wake Notifiers.
    void block(uint64_t deadline_ns) override;
    // The poll task's turn: up to max events without sleeping.
    uint32_t poll(uint32_t max) override;
    bool stop() override { return m_stopping; }
    void request_stop() { m_stopping = true; }

    // Registers fd edge-triggered for input and output, events going to t.
    Result<void> add(int fd, EpollTarget* t);
    void remove(int fd);

private:
    explicit EpollPlatform(int epfd) : m_epfd(epfd) {}
    uint32_t wait_and_dispatch(int timeout_ms, uint32_t max);
    int m_epfd;
    bool m_stopping = false;
};

}  // namespace ringlet::backend
