#include "tools/loadgen/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

namespace ringlet::loadgen {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
}

int Fd::release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
}

void Fd::reset(int fd) {
    if (m_fd >= 0) close(m_fd);
    m_fd = fd;
}

Result<sockaddr_in> resolve_ipv4(const std::string& host, uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* list = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0 || list == nullptr) return Error::NotFound;
    sockaddr_in addr{};
    memcpy(&addr, list->ai_addr, sizeof(addr));
    freeaddrinfo(list);
    addr.sin_port = htons(port);
    return addr;
}

std::string errno_text(const char* what, int err) {
    return std::string(what) + ": " + strerror(err);
}

Result<int> open_socket(int type) {
    const int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::IoError;
    return fd;
}

Result<void> epoll_watch(int ep, int fd, uint32_t events, uint64_t tag, bool modify) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    if (epoll_ctl(ep, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) return Error::IoError;
    return {};
}

void arm_timer(int tfd, uint64_t at_ns) {
    itimerspec spec{};
    // An all-zero it_value would disarm the timer; time 1 ns is already past.
    if (at_ns == 0) at_ns = 1;
    spec.it_value.tv_sec = static_cast<time_t>(at_ns / 1000000000ull);
    spec.it_value.tv_nsec = static_cast<long>(at_ns % 1000000000ull);
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &spec, nullptr);
}

}  // namespace ringlet::loadgen
