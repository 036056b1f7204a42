#include "libos/backend/host_platform.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "libos/pdpix/errno_map.h"

namespace ringlet::backend {

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void SleepPlatform::block(uint64_t deadline_ns) {
    const uint64_t now = monotonic_ns();
    if (deadline_ns <= now) return;
    uint64_t ns = deadline_ns - now;
    if (ns > 1'000'000) ns = 1'000'000;
    timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
    nanosleep(&ts, nullptr);
}

Result<EpollPlatform*> EpollPlatform::create() {
    const int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return pdpix::from_errno(errno);
    return new EpollPlatform(fd);
}

EpollPlatform::~EpollPlatform() { ::close(m_epfd); }

Result<void> EpollPlatform::add(int fd, EpollTarget* t) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = t;
    if (epoll_ctl(m_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return pdpix::from_errno(errno);
    return {};
}

void EpollPlatform::remove(int fd) { (void)epoll_ctl(m_epfd, EPOLL_CTL_DEL, fd, nullptr); }

uint32_t EpollPlatform::wait_and_dispatch(int timeout_ms, uint32_t max) {
    epoll_event evs[64];
    if (max > 64) max = 64;
    const int n = epoll_wait(m_epfd, evs, static_cast<int>(max), timeout_ms);
    if (n <= 0) return 0;  // EINTR or timeout: the caller re-checks
    // Only wake-ups here: the woken tasks run in a later executor round, so
    // no target can be freed while this loop still holds its pointer.
    for (int i = 0; i < n; ++i) {
        auto* t = static_cast<EpollTarget*>(evs[i].data.ptr);
        const uint32_t e = evs[i].events;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) t->readable.notify_all();
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) t->writable.notify_all();
    }
    return static_cast<uint32_t>(n);
}

void EpollPlatform::block(uint64_t deadline_ns) {
    int ms = -1;
    if (deadline_ns != rt::kForever) {
        const uint64_t now = monotonic_ns();
        const uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
        const uint64_t m = (left + 999'999) / 1'000'000;  // round up: never wake before the deadline
        ms = m > 60'000 ? 60'000 : static_cast<int>(m);
    }
    (void)wait_and_dispatch(ms, 64);
}

uint32_t EpollPlatform::poll(uint32_t max) { return wait_and_dispatch(0, max); }

}  // namespace ringlet::backend

// Linux gives no per-core retired-instruction count to user space here.
extern "C" unsigned long long ringlet_demi_sleep_instructions(void) { return 0; }
