// TestEchoServer: a small UDP + TCP echo server on 127.0.0.1 for the loadgen
// end-to-end tests, with the faults those tests need.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <thread>

namespace ringlet::loadgen::test {

class TestEchoServer {
public:
    struct Config {
        // Flip one bit of the byte at this offset of the UDP datagram / TCP
        // stream (counted from the first byte ever received); -1: no fault.
        int64_t corrupt_offset = -1;
        // TCP replies go out in sends of at most this many bytes, so the
        // client sees the echo cut at arbitrary points.
        size_t tcp_chunk = 1 << 16;
    };

    // Binds ephemeral UDP and TCP ports on 127.0.0.1 and serves them on a
    // thread until destruction; ok() is false if a socket could not be set up.
    explicit TestEchoServer(Config config);
    ~TestEchoServer();
    TestEchoServer(const TestEchoServer&) = delete;
    TestEchoServer& operator=(const TestEchoServer&) = delete;

    bool ok() const { return m_ok; }
    uint16_t udp_port() const { return m_udp_port; }
    uint16_t tcp_port() const { return m_tcp_port; }

private:
    void serve();
    void corrupt(uint8_t* data, size_t len, uint64_t& seen);

    Config m_config;
    int m_udp = -1;
    int m_listen = -1;
    int m_stop[2] = {-1, -1};  // a pipe: writing to it wakes serve() to exit
    uint16_t m_udp_port = 0;
    uint16_t m_tcp_port = 0;
    bool m_ok = false;
    uint64_t m_udp_seen = 0;
    uint64_t m_tcp_seen = 0;
    std::thread m_thread;
};

}  // namespace ringlet::loadgen::test
