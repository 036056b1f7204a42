// Two interfaces of one lwIP stack joined by a fake wire: a PDPIX TCP client
// on 10.0.2.15 and an echo server on 10.0.2.16, 1 MiB echoed with every byte
// checked, on a clean wire and on one that loses frames.
#include "libos/mem/dataplane_stats.h"
#include "lwip/opt.h"
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

class TcpEchoTest : public NetTest {
protected:
    static uint8_t byte_at(uint64_t i) { return static_cast<uint8_t>((i * 2654435761u) >> 13); }

    // An n-byte message of the pattern from stream offset `at`.
    Result<demi_sgarray_t> pattern(uint64_t at, uint32_t n) {
        auto s = os->sgaalloc(n);
        if (!s.ok()) return s.error();
        auto* d = static_cast<uint8_t*>(s->sga_segs[0].sgaseg_buf);
        for (uint32_t i = 0; i < n; ++i) d[i] = byte_at(at + i);
        return *s;
    }
    // Checks a popped segment against the pattern at `at` (mismatches are
    // counted), frees it and returns its length.
    uint32_t check_and_free(demi_sgarray_t& sga, uint64_t at) {
        const auto* d = static_cast<const uint8_t*>(sga.sga_segs[0].sgaseg_buf);
        const uint32_t n = sga.sga_segs[0].sgaseg_len;
        for (uint32_t i = 0; i < n; ++i) {
            if (d[i] != byte_at(at + i)) m_mismatches++;
        }
        (void)os->sgafree(&sga);
        return n;
    }

    rt::Task<void> server(int listener) {
        auto a = co_await os->accept(listener);
        if (!a.ok()) {
            m_failures++;
            co_return;
        }
        const int qd = a->qd;
        for (;;) {
            auto p = co_await os->pop(qd);
            if (!p.ok()) {
                m_failures++;
                break;
            }
            const uint32_t n = p->sga.sga_segs[0].sgaseg_len;
            if (n == 0) {
                (void)os->sgafree(&p->sga);
                break;
            }
            // Echo the very buffer we were given (the zero-copy habit apps have).
            auto r = co_await os->push(qd, p->sga);
            (void)os->sgafree(&p->sga);
            if (!r.ok()) {
                m_failures++;
                break;
            }
        }
        (void)os->close(qd);
        m_server_done = true;
    }

    // Pushes pattern(at, n) on qd and waits for the push; false (a failure
    // counted) if the buffer or the push failed.
    rt::Task<bool> push_pattern(int qd, uint64_t at, uint32_t n) {
        auto s = pattern(at, n);
        if (!s.ok()) {
            m_failures++;
            co_return false;
        }
        auto r = co_await os->push(qd, *s);
        (void)os->sgafree(&*s);
        if (!r.ok()) m_failures++;
        co_return r.ok();
    }

    rt::Task<void> sender(int qd, uint64_t total) {
        uint64_t sent = 0;
        uint32_t chunk = 1;
        while (sent < total) {
            chunk = m_fixed_chunk != 0 ? m_fixed_chunk : chunk * 7 % 9000 + 1;  // 1..9000 bytes, irregular
            const uint32_t n = static_cast<uint32_t>(total - sent < chunk ? total - sent : chunk);
            if (!co_await push_pattern(qd, sent, n)) co_return;
            sent += n;
        }
        m_sender_done = true;
    }

    rt::Task<void> receiver(int qd, uint64_t total) {
        while (m_received < total) {
            auto p = co_await os->pop(qd);
            if (!p.ok() || p->sga.sga_segs[0].sgaseg_len == 0) {
                m_failures++;
                co_return;
            }
            m_received += check_and_free(p->sga, m_received);
        }
    }

    // A listener on 10.0.2.16:7000 served by server(), and a client from
    // 10.0.2.15 connected to it.
    void connect_client(int* listener, int* client) {
        const int l = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in at = addr(kIpB, 7000);
        ASSERT_TRUE(os->bind(l, reinterpret_cast<sockaddr*>(&at), sizeof at).ok());
        ASSERT_TRUE(os->listen(l, 4).ok());
        const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in from = addr(kIpA, 0);
        ASSERT_TRUE(os->bind(c, reinterpret_cast<sockaddr*>(&from), sizeof from).ok());
        ASSERT_TRUE(os->executor().spawn(server(l)).ok());
        const demi_qresult_t r = wait(*os->start_connect(c, reinterpret_cast<const sockaddr*>(&at), sizeof at));
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_CONNECT);
        *listener = l;
        *client = c;
    }

    void echo(uint64_t total) {
        boot(true);
        nic_a.record = nic_b.record = false;
        // Zero-copy both ways: the client pushes sgaalloc'd buffers, the
        // server pushes back the very segments it popped - no payload byte
        // is copied by the CPU anywhere (the fake wire's "DMA" is the device's).
        const uint64_t copied = mem::g_dataplane_stats.payload_bytes_copied;
        const uint32_t live = os->heap().live();
        int l = -1, c = -1;
        connect_client(&l, &c);
        ASSERT_FALSE(HasFatalFailure());
        ASSERT_TRUE(os->executor().spawn(sender(c, total)).ok());
        ASSERT_TRUE(os->executor().spawn(receiver(c, total)).ok());
        ASSERT_TRUE(run_until([&] { return m_received >= total || m_failures > 0; }, 3600 * 1000));
        EXPECT_EQ(m_failures, 0u);
        EXPECT_TRUE(m_sender_done);
        EXPECT_EQ(m_received, total);
        EXPECT_EQ(m_mismatches, 0u);
        EXPECT_EQ(mem::g_dataplane_stats.payload_bytes_copied, copied) << "payload bytes copied";
        // Both directions really crossed the wire in full-sized segments.
        EXPECT_GE(nic_a.frames_out, total / TCP_MSS);
        EXPECT_GE(nic_b.frames_out, total / TCP_MSS);
        // The client closes; the server sees end of stream and closes too.
        EXPECT_TRUE(os->close(c).ok());
        EXPECT_TRUE(run_until([&] { return m_server_done; }, 60000));
        EXPECT_TRUE(os->close(l).ok());
        run_for_ms(300000);  // FIN exchange, TIME_WAIT
        EXPECT_EQ(stack_tcp_pcbs(), 0u);
        EXPECT_EQ(os->heap().live(), live);
        EXPECT_EQ(dma_pbufs_live(), 0u);
        EXPECT_EQ(nic_a.contract_violations + nic_b.contract_violations, 0u);
        EXPECT_EQ(nic_a.wire_checksum_errors + nic_b.wire_checksum_errors, 0u);
    }

    // Closed loop, as loadgen drives echo: push one `size`-byte message,
    // pop until all of it is back, `rounds` times; the longest round in
    // virtual time goes to m_slowest_ns (a round that needed one of lwIP's
    // timers to move on shows as a jump of up to 250 ms).
    rt::Task<void> pinger(int qd, uint32_t size, uint32_t rounds) {
        for (uint32_t k = 0; k < rounds; ++k) {
            const uint64_t start = clock.now_ns();
            if (!co_await push_pattern(qd, k, size)) co_return;
            uint32_t got = 0;
            while (got < size) {
                auto p = co_await os->pop(qd);
                if (!p.ok() || p->sga.sga_segs[0].sgaseg_len == 0) {
                    m_failures++;
                    co_return;
                }
                got += check_and_free(p->sga, k + got);
            }
            const uint64_t took = clock.now_ns() - start;
            if (took > m_slowest_ns) m_slowest_ns = took;
            m_received += size;
        }
        m_sender_done = true;
    }

    uint64_t m_slowest_ns = 0;
    uint32_t m_fixed_chunk = 0;  // 0: irregular 1..9000-byte pushes
    uint64_t m_received = 0;
    uint64_t m_mismatches = 0;
    uint32_t m_failures = 0;
    bool m_sender_done = false;
    bool m_server_done = false;
};

TEST_F(TcpEchoTest, EchoesOneMebibyteEveryByteChecked) { echo(1u << 20); }

// Messages of 64 B, 1 KiB, 8 KiB and 64 KiB: none copied (echo() asserts
// the payload-copy counter did not move).
TEST_F(TcpEchoTest, EchoOf64ByteMessagesCopiesNoPayload) {
    m_fixed_chunk = 64;
    echo(64 * 64);
}
TEST_F(TcpEchoTest, EchoOf1KiBMessagesCopiesNoPayload) {
    m_fixed_chunk = 1024;
    echo(1024 * 32);
}
TEST_F(TcpEchoTest, EchoOf8KiBMessagesCopiesNoPayload) {
    m_fixed_chunk = 8192;
    echo(8192 * 16);
}
TEST_F(TcpEchoTest, EchoOf64KiBMessagesCopiesNoPayload) {
    m_fixed_chunk = 65536;
    echo(65536 * 8);
}

// Both NICs offer checksum offload: every TCP checksum on the wire was
// finished by the (fake) device, and lwIP checked none it was told were good.
TEST_F(TcpEchoTest, EchoesWithChecksumOffloadBothWays) {
    for (FakeNic* n : {&nic_a, &nic_b}) {
        n->offload.tx_checksum = n->offload.rx_checksum = true;
        n->mark_rx_verified = true;
    }
    echo(256u << 10);
    EXPECT_GE(nic_a.csum_requests, (256u << 10) / TCP_MSS);
    EXPECT_GE(nic_b.csum_requests, (256u << 10) / TCP_MSS);
    EXPECT_GT(backend->interface(0)->stats().rx_csum_verified, 0u);
    EXPECT_EQ(nic_a.wire_checksum_errors + nic_b.wire_checksum_errors, 0u);
}

// Request/response with multi-segment messages, as loadgen drives echo:
// every round must finish without waiting for one of lwIP's timers (a
// delayed ACK, a refused segment retried): the virtual clock only moves when
// the stack would sleep with a timer as its only way on.
TEST_F(TcpEchoTest, MultiSegmentRequestsNeverWaitForATimer) {
    boot(true);
    nic_a.record = nic_b.record = false;
    int l = -1, c = -1;
    connect_client(&l, &c);
    ASSERT_FALSE(HasFatalFailure());
    for (uint32_t size : {8192u, 1460u * 6, 3000u, 65536u}) {
        m_slowest_ns = 0;
        m_sender_done = false;
        ASSERT_TRUE(os->executor().spawn(pinger(c, size, 200)).ok());
        ASSERT_TRUE(run_until([&] { return m_sender_done || m_failures > 0; }, 3600 * 1000));
        EXPECT_EQ(m_failures, 0u);
        EXPECT_EQ(m_mismatches, 0u);
        EXPECT_LT(m_slowest_ns, 1'000'000u) << size << "-byte messages: a round waited " << m_slowest_ns / 1000 << " us";
    }
    EXPECT_TRUE(os->close(c).ok());
    EXPECT_TRUE(run_until([&] { return m_server_done; }, 60000));
    EXPECT_TRUE(os->close(l).ok());
    run_for_ms(300000);
}

TEST_F(TcpEchoTest, EchoesOverALossyWireWithRetransmissions) {
    nic_a.drop_every = 37;
    nic_b.drop_every = 41;
    const mem::DataplaneStats before = mem::g_dataplane_stats;
    echo(256u << 10);
    EXPECT_GT(nic_a.frames_dropped + nic_b.frames_dropped, 0u);
    // The receive fast path ran with lwIP's recovery around it (tcp_fast_path.h).
    EXPECT_GT(mem::g_dataplane_stats.tcp_fast_hits, before.tcp_fast_hits);
    EXPECT_GT(mem::g_dataplane_stats.tcp_fast_fallback, before.tcp_fast_fallback);
}

}  // namespace
}  // namespace ringlet::net::test

namespace ringlet::net::test {
namespace {

// 64 connections at once (the pool sizing in lwipopts.h), each echoing its
// own pattern through one listener.
class TcpManyTest : public NetTest {
protected:
    static constexpr int kConns = 64;
    static constexpr uint32_t kBytes = 20000;

    rt::Task<void> serve_one(int qd) {
        for (;;) {
            auto p = co_await os->pop(qd);
            if (!p.ok() || p->sga.sga_segs[0].sgaseg_len == 0) {
                if (p.ok()) (void)os->sgafree(&p->sga);
                break;
            }
            auto r = co_await os->push(qd, p->sga);
            (void)os->sgafree(&p->sga);
            if (!r.ok()) break;
        }
        (void)os->close(qd);
    }
    rt::Task<void> acceptor(int l) {
        for (int i = 0; i < kConns; ++i) {
            auto a = co_await os->accept(l);
            if (!a.ok() || !os->executor().spawn(serve_one(a->qd)).ok()) {
                ++m_failures;
                co_return;
            }
        }
    }
    rt::Task<void> client(int id) {
        const int qd = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in from = addr(kIpA, 0);
        (void)os->bind(qd, reinterpret_cast<sockaddr*>(&from), sizeof from);
        auto c = co_await os->connect(qd, addr(kIpB, 7001));
        if (!c.ok()) {
            ++m_failures;
            co_return;
        }
        auto s = os->sgaalloc(kBytes);
        auto* d = static_cast<uint8_t*>(s->sga_segs[0].sgaseg_buf);
        for (uint32_t i = 0; i < kBytes; ++i) d[i] = static_cast<uint8_t>(id * 13 + i);
        auto r = co_await os->push(qd, *s);
        (void)os->sgafree(&*s);
        uint32_t got = 0;
        while (r.ok() && got < kBytes) {
            auto p = co_await os->pop(qd);
            if (!p.ok() || p->sga.sga_segs[0].sgaseg_len == 0) break;
            const auto* b = static_cast<const uint8_t*>(p->sga.sga_segs[0].sgaseg_buf);
            for (uint32_t i = 0; i < p->sga.sga_segs[0].sgaseg_len; ++i) {
                if (b[i] != static_cast<uint8_t>(id * 13 + got + i)) ++m_mismatches;
            }
            got += p->sga.sga_segs[0].sgaseg_len;
            (void)os->sgafree(&p->sga);
        }
        if (got != kBytes) ++m_failures;
        (void)os->close(qd);
        ++m_done;
    }

    int m_done = 0;
    int m_failures = 0;
    uint64_t m_mismatches = 0;
};

TEST_F(TcpManyTest, SixtyFourConcurrentConnectionsEcho) {
    boot(true);
    nic_a.record = nic_b.record = false;
    const uint32_t live = os->heap().live();
    const int l = *os->socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at = addr(kIpB, 7001);
    ASSERT_TRUE(os->bind(l, reinterpret_cast<sockaddr*>(&at), sizeof at).ok());
    ASSERT_TRUE(os->listen(l, kConns).ok());
    ASSERT_TRUE(os->executor().spawn(acceptor(l)).ok());
    for (int i = 0; i < kConns; ++i) ASSERT_TRUE(os->executor().spawn(client(i)).ok());
    ASSERT_TRUE(run_until([&] { return m_done + m_failures >= kConns; }, 600000));
    EXPECT_EQ(m_failures, 0);
    EXPECT_EQ(m_done, kConns);
    EXPECT_EQ(m_mismatches, 0u);
    run_for_ms(300000);
    EXPECT_TRUE(os->close(l).ok());
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
    EXPECT_EQ(os->heap().live(), live);
}

}  // namespace
}  // namespace ringlet::net::test
