#include "libos/backend/linux_sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libos/pdpix/errno_map.h"
#include "libos/rt/poll_loop.h"

namespace ringlet::backend {

namespace {

using pdpix::from_errno;

constexpr uint32_t kStreamPop = 8192;     // bytes a TCP pop asks for
constexpr uint32_t kDatagramPop = 65535;  // the largest UDP payload

class LinuxSocket final : public pdpix::Queue {
public:
    LinuxSocket(LinuxBackend* be, int fd, bool stream) : m_be(be), m_fd(fd), m_stream(stream) {}
    ~LinuxSocket() override { close(); }

    EpollTarget* target() { return &m_target; }

    Result<void> bind(const sockaddr_in& a) override {
        if (m_stream) {
            const int one = 1;  // restartable servers on the same port
            (void)::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }
        if (::bind(m_fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return from_errno(errno);
        return {};
    }

    Result<void> listen(int backlog) override {
        if (!m_stream) return Error::Unsupported;
        if (::listen(m_fd, backlog) != 0) return from_errno(errno);
        return {};
    }

    rt::Task<Result<pdpix::Queue*>> accept(sockaddr_in* peer) override {
        if (!m_stream) co_return Error::Unsupported;
        for (;;) {
            socklen_t len = sizeof *peer;
            const int c = ::accept4(m_fd, reinterpret_cast<sockaddr*>(peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0) co_return m_be->adopt(c, true);
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) co_return from_errno(errno);
            if (errno == EAGAIN) co_await m_target.readable.wait();
        }
    }

    rt::Task<Result<void>> connect(sockaddr_in to) override {
        if (::connect(m_fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) co_return Result<void>();
        if (errno != EINPROGRESS) co_return from_errno(errno);
        for (;;) {
            co_await m_target.writable.wait();
            int err = 0;
            socklen_t len = sizeof err;
            if (::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) co_return from_errno(errno);
            if (err == 0) {
                sockaddr_in peer;
                socklen_t pl = sizeof peer;
                // A writable edge can come before the handshake ends on some
                // kernels; getpeername tells us it really is connected.
                if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0) co_return Result<void>();
                continue;
            }
            co_return from_errno(err);
        }
    }

    rt::Task<Result<void>> push(mem::Buffer* b, uint32_t start, uint32_t len, const sockaddr_in* to) override {
        const uint8_t* bytes = b->data() + start;
        uint32_t off = 0;
        while (off < len) {
            ssize_t n;
            if (to != nullptr) {
                n = ::sendto(m_fd, bytes + off, len - off, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(to),
                             sizeof *to);
            } else {
                n = ::send(m_fd, bytes + off, len - off, MSG_NOSIGNAL);
            }
            if (n >= 0) {
                off += static_cast<uint32_t>(n);
                if (!m_stream) break;  // a datagram goes whole or not at all
                continue;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN) co_return from_errno(errno);
            co_await m_target.writable.wait();
        }
        co_return Result<void>();
    }

    rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from) override {
        auto buf = m_be->heap().alloc(m_stream ? kStreamPop : kDatagramPop);
        if (!buf) co_return buf.error();
        mem::Buffer* b = *buf;
        // Held by this frame until handed over, so a cancelled pop frees it.
        mem::BufferRef guard = mem::BufferRef::adopt(&m_be->heap(), b);
        for (;;) {
            socklen_t fl = sizeof *from;
            const ssize_t n = ::recvfrom(m_fd, b->data(), b->capacity, 0, reinterpret_cast<sockaddr*>(from), &fl);
            if (n >= 0) {
                b->len = static_cast<uint32_t>(n);  // 0 on a stream: the peer closed
                m_be->heap().retain(b);               // the caller's reference
                co_return b;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN) co_return from_errno(errno);
            co_await m_target.readable.wait();
        }
    }

    void close() override {
        if (m_fd < 0) return;
        m_be->epoll().remove(m_fd);
        ::close(m_fd);
        m_fd = -1;
    }

    Result<void> setsockopt(int level, int name, const void* val, socklen_t len) override {
        if (::setsockopt(m_fd, level, name, val, len) != 0) return from_errno(errno);
        return {};
    }
    Result<void> getsockopt(int level, int name, void* val, socklen_t* len) override {
        if (::getsockopt(m_fd, level, name, val, len) != 0) return from_errno(errno);
        return {};
    }
    Result<void> getpeername(sockaddr_in* out) override {
        socklen_t len = sizeof *out;
        if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(out), &len) != 0) return from_errno(errno);
        return {};
    }

private:
    LinuxBackend* m_be;
    int m_fd;
    bool m_stream;
    EpollTarget m_target;
};

}  // namespace

Result<LinuxBackend*> LinuxBackend::create() {
    EpollPlatform* e = TRY(EpollPlatform::create());
    return new LinuxBackend(e);
}

LinuxBackend::~LinuxBackend() { delete m_epoll; }

Result<void> LinuxBackend::start(rt::Executor& exec, mem::DmaHeap& heap) {
    m_exec = &exec;
    m_heap = &heap;
    // The fast-path poll task: bounded batches, parks when idle.
    m_poller = TRY(exec.spawn(rt::poll_loop(exec, *m_epoll), rt::TaskClass::Poll));
    return {};
}

Result<pdpix::Queue*> LinuxBackend::socket(int domain, int type, int protocol) {
    if (domain != AF_INET || (type != SOCK_STREAM && type != SOCK_DGRAM)) return Error::Unsupported;
    const int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) return from_errno(errno);
    return adopt(fd, type == SOCK_STREAM);
}

Result<pdpix::Queue*> LinuxBackend::adopt(int fd, bool stream) {
    auto* s = new LinuxSocket(this, fd, stream);
    if (auto r = m_epoll->add(fd, s->target()); !r) {
        delete s;
        return r.error();
    }
    return static_cast<pdpix::Queue*>(s);
}

void LinuxBackend::destroy(pdpix::Queue* q) { delete q; }

}  // namespace ringlet::backend
