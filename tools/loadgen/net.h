// Net: the few POSIX helpers the workers share (clock, fds, address, epoll).
#pragma once

#include <netinet/in.h>
#include <stdint.h>

#include <string>

#include "ringlet/result.h"

namespace ringlet::loadgen {

// CLOCK_MONOTONIC in nanoseconds; the one clock every latency is taken from.
uint64_t now_ns();

// Owns one file descriptor and closes it on destruction.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    int release();
    // Closes the descriptor held, if any, and holds `fd` instead.
    void reset(int fd = -1);

private:
    int m_fd = -1;
};

// Resolves `host` (a name or dotted IPv4 address) to an IPv4 socket address;
// NotFound when it has no IPv4 address.
Result<sockaddr_in> resolve_ipv4(const std::string& host, uint16_t port);

// "what: strerror(err)", for error messages.
std::string errno_text(const char* what, int err);

// A non-blocking IPv4 socket of `type` (SOCK_DGRAM or SOCK_STREAM); IoError
// with errno left set on failure.
Result<int> open_socket(int type);

// Registers (or with `modify`, re-registers) `fd` in epoll `ep` for `events`,
// tagged with `tag`; IoError on failure.
Result<void> epoll_watch(int ep, int fd, uint32_t events, uint64_t tag, bool modify = false);

// Arms timerfd `tfd` to fire once at absolute CLOCK_MONOTONIC time `at_ns`.
void arm_timer(int tfd, uint64_t at_ns);

}  // namespace ringlet::loadgen
