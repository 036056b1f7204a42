#include "tests/tools/loadgen/test_echo_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace ringlet::loadgen::test {
namespace {

// Binds `fd` to 127.0.0.1 on a port the kernel picks and returns that port.
uint16_t bind_loopback(int fd) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 0;
    socklen_t len = sizeof(a);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

// Sends all of [data, data+len) on a blocking socket, `chunk` bytes at a time.
bool send_all(int fd, const uint8_t* data, size_t len, size_t chunk) {
    while (len > 0) {
        const ssize_t n = send(fd, data, std::min(len, chunk), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

TestEchoServer::TestEchoServer(Config config) : m_config(config) {
    m_udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    m_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_udp < 0 || m_listen < 0 || pipe(m_stop) != 0) return;
    // Large buffers: an open-loop burst must not be dropped by the server.
    const int big = 4 << 20;
    if (setsockopt(m_udp, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) != 0)
        setsockopt(m_udp, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    m_udp_port = bind_loopback(m_udp);
    m_tcp_port = bind_loopback(m_listen);
    if (m_udp_port == 0 || m_tcp_port == 0 || listen(m_listen, 128) != 0) return;
    m_ok = true;
    m_thread = std::thread([this] { serve(); });
}

TestEchoServer::~TestEchoServer() {
    if (m_thread.joinable()) {
        const char b = 0;
        [[maybe_unused]] ssize_t r = write(m_stop[1], &b, 1);
        m_thread.join();
    }
    for (int fd : {m_udp, m_listen, m_stop[0], m_stop[1]})
        if (fd >= 0) close(fd);
}

void TestEchoServer::corrupt(uint8_t* data, size_t len, uint64_t& seen) {
    const int64_t at = m_config.corrupt_offset;
    if (at >= 0 && static_cast<uint64_t>(at) >= seen && static_cast<uint64_t>(at) < seen + len)
        data[static_cast<uint64_t>(at) - seen] ^= 0x01;
    seen += len;
}

void TestEchoServer::serve() {
    std::vector<int> conns;
    std::vector<uint8_t> buf(1 << 16);
    while (true) {
        std::vector<pollfd> fds = {{m_stop[0], POLLIN, 0}, {m_udp, POLLIN, 0}, {m_listen, POLLIN, 0}};
        for (int c : conns) fds.push_back({c, POLLIN, 0});
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents) break;
        if (fds[1].revents & POLLIN) {
            sockaddr_in from{};
            socklen_t len = sizeof(from);
            const ssize_t n = recvfrom(m_udp, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n > 0) {
                // Only the first datagram carries the fault: exactly one byte
                // of the whole run is wrong.
                if (m_udp_seen == 0) corrupt(buf.data(), static_cast<size_t>(n), m_udp_seen);
                sendto(m_udp, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
            }
        }
        std::vector<int> keep;
        for (size_t i = 3; i < fds.size(); ++i) {
            const int c = fds[i].fd;
            bool alive = true;
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                const ssize_t n = recv(c, buf.data(), buf.size(), 0);
                if (n <= 0) {
                    alive = false;
                } else {
                    corrupt(buf.data(), static_cast<size_t>(n), m_tcp_seen);
                    alive = send_all(c, buf.data(), static_cast<size_t>(n), m_config.tcp_chunk);
                }
            }
            if (alive) keep.push_back(c);
            else close(c);
        }
        // Accepted after the sweep above: fds[] does not cover it yet.
        if (fds[2].revents & POLLIN) {
            const int c = accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) keep.push_back(c);
        }
        conns = std::move(keep);
    }
    for (int c : conns) close(c);
}

}  // namespace ringlet::loadgen::test
