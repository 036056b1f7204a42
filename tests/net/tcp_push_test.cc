// net/tcp_queue pushes larger than lwIP's send buffer (TCP_SND_BUF): they
// are written as the peer acknowledges, a push issued while an earlier one
// still waits does not slip its bytes in between, and a connection whose
// peer stops reading holds up nobody else.
#include "lwip/opt.h"
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

// One push's size: far more than lwIP's send buffer, and a DMA heap block.
constexpr uint32_t kPushBytes = 96u << 10;
static_assert(kPushBytes > TCP_SND_BUF + TCP_WND, "a push must not fit the send buffer and the peer's window");

class TcpPushTest : public NetTest {
protected:
    static uint8_t byte_at(uint64_t i, uint32_t seed) { return static_cast<uint8_t>(((i + seed) * 2654435761u) >> 13); }

    // The listener on 10.0.2.16:port and a client connected to it from
    // 10.0.2.15; the accepted qd goes to *server.
    int connect_pair(uint16_t port, int* server) {
        const int l = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in at = addr(kIpB, port);
        EXPECT_TRUE(os->bind(l, reinterpret_cast<sockaddr*>(&at), sizeof at).ok());
        EXPECT_TRUE(os->listen(l, 4).ok());
        const demi_qtoken_t acc = *os->start_accept(l);
        const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in from = addr(kIpA, 0);
        EXPECT_TRUE(os->bind(c, reinterpret_cast<sockaddr*>(&from), sizeof from).ok());
        EXPECT_EQ(wait(*os->start_connect(c, reinterpret_cast<const sockaddr*>(&at), sizeof at)).qr_opcode,
                  DEMI_OPC_CONNECT);
        const demi_qresult_t a = wait(acc);
        EXPECT_EQ(a.qr_opcode, DEMI_OPC_ACCEPT);
        *server = a.qr_value.ares.qd;
        m_listeners[m_nlisteners++] = l;
        return c;
    }

    // One push the echo server issued; it runs on while the server pops on.
    rt::Task<void> push_one(int qd, demi_sgarray_t sga, bool* started) {
        *started = true;  // os->push takes the queue's turn before it first waits
        auto r = co_await os->push(qd, sga);
        (void)os->sgafree(&sga);
        if (!r.ok()) ++m_failures;
        --m_pushes_pending;
    }

    // Echoes what it pops the way user/echo's event loop can: each chunk's
    // push is issued, in order, without waiting for the previous push.
    rt::Task<void> echo_server(int qd) {
        for (;;) {
            auto p = co_await os->pop(qd);
            if (!p.ok() || p->sga.sga_segs[0].sgaseg_len == 0) {
                if (p.ok()) (void)os->sgafree(&p->sga);
                break;
            }
            bool started = false;
            ++m_pushes_pending;
            if (!os->executor().spawn(push_one(qd, p->sga, &started)).ok()) {
                ++m_failures;
                break;
            }
            while (!started) co_await os->executor().yield();
            m_max_pushes_pending = m_pushes_pending > m_max_pushes_pending ? m_pushes_pending : m_max_pushes_pending;
        }
        m_server_done = true;
    }

    // Sends each message of sizes[k] bytes in pushes of up to kPushBytes,
    // all issued before the first completes, then reads its echo, checking
    // every byte.
    rt::Task<void> client(int qd, const uint32_t* sizes, int n) {
        for (int k = 0; k < n; ++k) {
            const uint32_t size = sizes[k];
            for (uint32_t off = 0; off < size; off += kPushBytes) {
                const uint32_t len = size - off < kPushBytes ? size - off : kPushBytes;
                auto s = os->sgaalloc(len);
                if (!s.ok()) {
                    ++m_failures;
                    co_return;
                }
                auto* d = static_cast<uint8_t*>(s->sga_segs[0].sgaseg_buf);
                for (uint32_t i = 0; i < len; ++i) d[i] = byte_at(off + i, static_cast<uint32_t>(k));
                bool started = false;
                ++m_pushes_pending;
                if (!os->executor().spawn(push_one(qd, *s, &started)).ok()) {
                    ++m_failures;
                    co_return;
                }
                while (!started) co_await os->executor().yield();
            }
            uint32_t got = 0;
            while (got < size) {
                auto p = co_await os->pop(qd);
                if (!p.ok() || p->sga.sga_segs[0].sgaseg_len == 0) {
                    ++m_failures;
                    co_return;
                }
                const uint32_t len = p->sga.sga_segs[0].sgaseg_len;
                const auto* b = static_cast<const uint8_t*>(p->sga.sga_segs[0].sgaseg_buf);
                for (uint32_t i = 0; i < len && got + i < size; ++i) {
                    if (b[i] != byte_at(got + i, static_cast<uint32_t>(k))) ++m_mismatches;
                }
                got += len;
                (void)os->sgafree(&p->sga);
            }
            if (got != size) ++m_failures;  // bytes beyond the message
            ++m_messages;
        }
    }

    void finish(std::initializer_list<int> qds) {
        for (int qd : qds) EXPECT_TRUE(os->close(qd).ok());
        for (int i = 0; i < m_nlisteners; ++i) EXPECT_TRUE(os->close(m_listeners[i]).ok());
        run_for_ms(300000);  // FIN exchange, TIME_WAIT
        EXPECT_EQ(stack_tcp_pcbs(), 0u);
        EXPECT_EQ(dma_pbufs_live(), 0u);
        EXPECT_EQ(nic_a.contract_violations + nic_b.contract_violations, 0u);
    }

    int m_listeners[4] = {};
    int m_nlisteners = 0;
    uint32_t m_failures = 0;
    uint64_t m_mismatches = 0;
    int m_messages = 0;
    int m_pushes_pending = 0;
    int m_max_pushes_pending = 0;
    bool m_server_done = false;
};

TEST_F(TcpPushTest, LargeMessagesEchoInOrderWhilePushesOverlap) {
    boot(true);
    nic_a.record = nic_b.record = false;
    int srv = -1;
    const int c = connect_pair(7100, &srv);
    static constexpr uint32_t kSizes[] = {64u << 10, 256u << 10, 1u << 20, 64u << 10};
    ASSERT_TRUE(os->executor().spawn(echo_server(srv)).ok());
    ASSERT_TRUE(os->executor().spawn(client(c, kSizes, 4)).ok());
    ASSERT_TRUE(run_until([&] { return m_messages == 4 || m_failures > 0; }, 3600 * 1000));
    EXPECT_EQ(m_failures, 0u);
    EXPECT_EQ(m_mismatches, 0u);
    // The case under test really happened: pushes overlapped.
    EXPECT_GT(m_max_pushes_pending, 1);
    EXPECT_TRUE(os->close(c).ok());
    EXPECT_TRUE(run_until([&] { return m_server_done && m_pushes_pending == 0; }, 60000));
    finish({srv});
}

TEST_F(TcpPushTest, APushStalledByAPeerThatDoesNotReadHoldsUpNoOtherQueue) {
    boot(true);
    nic_a.record = nic_b.record = false;
    int stalled_srv = -1, echo_srv = -1;
    const int stalled = connect_pair(7101, &stalled_srv);
    const int echoing = connect_pair(7102, &echo_srv);
    // One push to a peer that pops nothing yet: it can only queue the
    // peer's window plus the send buffer, then must wait.
    const uint32_t big = kPushBytes;
    auto s = os->sgaalloc(big);
    ASSERT_TRUE(s.ok());
    auto* d = static_cast<uint8_t*>(s->sga_segs[0].sgaseg_buf);
    for (uint32_t i = 0; i < big; ++i) d[i] = byte_at(i, 77);
    const demi_qtoken_t push = *os->start_push(stalled, &*s, nullptr, 0);
    ASSERT_TRUE(os->sgafree(&*s).ok());
    run_for_ms(2000);
    demi_qresult_t r{};
    timespec zero{0, 0};
    EXPECT_EQ(os->wait(&r, push, &zero), ETIMEDOUT) << "the push cannot be in flight yet";
    // Meanwhile another connection echoes 64 KiB messages.
    ASSERT_TRUE(os->executor().spawn(echo_server(echo_srv)).ok());
    static constexpr uint32_t kSizes[] = {64u << 10, 64u << 10, 8u << 10};
    ASSERT_TRUE(os->executor().spawn(client(echoing, kSizes, 3)).ok());
    ASSERT_TRUE(run_until([&] { return m_messages == 3 || m_failures > 0; }, 600 * 1000));
    EXPECT_EQ(m_failures, 0u);
    EXPECT_EQ(m_mismatches, 0u);
    EXPECT_EQ(os->wait(&r, push, &zero), ETIMEDOUT) << "the stalled push finished with nobody reading";
    // The peer reads at last: the push completes as it acknowledges.
    uint64_t got = 0, wrong = 0;
    while (got < big) {
        const demi_qresult_t p = wait(*os->start_pop(stalled_srv));
        ASSERT_EQ(p.qr_opcode, DEMI_OPC_POP);
        demi_sgarray_t sga = p.qr_value.sga;
        const auto* b = static_cast<const uint8_t*>(sga.sga_segs[0].sgaseg_buf);
        ASSERT_GT(sga.sga_segs[0].sgaseg_len, 0u);
        for (uint32_t i = 0; i < sga.sga_segs[0].sgaseg_len; ++i) wrong += b[i] != byte_at(got + i, 77);
        got += sga.sga_segs[0].sgaseg_len;
        ASSERT_TRUE(os->sgafree(&sga).ok());
    }
    EXPECT_EQ(got, big);
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(wait(push).qr_opcode, DEMI_OPC_PUSH);
    EXPECT_TRUE(os->close(echoing).ok());
    EXPECT_TRUE(run_until([&] { return m_server_done && m_pushes_pending == 0; }, 60000));
    finish({stalled, stalled_srv, echo_srv});
}

// Two demi_pushes issued back to back go on the wire in call order, even
// when the executor happens to run the second one's task first: freeing two
// task slots in turn leaves the free list handing the first push the
// higher slot, which the ready set's lowest-first pick runs later.
// The NIC's ring is full while a push is written: lwIP keeps the segments
// (unsent) and would send them again only at the connection's next ACK or
// timer - and with everything else acknowledged there is no ACK to come.
// The next poll of the NIC (here: woken by an unrelated frame) sends them,
// with no virtual time passing, not lwIP's 250 ms timer tick later.
TEST_F(TcpPushTest, SegmentsTheRingHadNoRoomForGoOutAtTheNextPoll) {
    boot(true);
    int server = -1;
    const int c = connect_pair(7070, &server);
    run_for_ms(300);  // the handshake's ACKs settle; nothing in flight
    constexpr uint32_t kBytes = 3000;
    nic_a.fail_tx = true;
    auto s = os->sgaalloc(kBytes);
    ASSERT_TRUE(s.ok());
    memset(s->sga_segs[0].sgaseg_buf, 0x5a, kBytes);
    const demi_qtoken_t push = *os->start_push(c, &*s, nullptr, 0);
    const demi_qtoken_t pop = *os->start_pop(server);
    run_for_ms(1);
    const uint64_t full = backend->interface(0)->stats().tx_ring_full;
    EXPECT_GT(full, 0u);
    nic_a.fail_tx = false;
    // Some frame for nic_a wakes the core: an ARP request from another host.
    nic_a.inject(ethernet(kBroadcast, kPeerMac, kEthArp, arp(1, kPeerMac, kPeerIp, MacAddress{}, kIpA)));
    const uint64_t before = clock.now_ns();
    demi_qresult_t r = wait(pop, 1);  // at most a virtual ms
    ASSERT_EQ(last_wait, 0) << "the segments waited for a timer";
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_POP);
    EXPECT_GT(r.qr_value.sga.sga_segs[0].sgaseg_len, 0u);
    EXPECT_LT(clock.now_ns() - before, 1000000u);
    (void)os->sgafree(&r.qr_value.sga);
    EXPECT_EQ(wait(push).qr_opcode, DEMI_OPC_PUSH);
    (void)os->sgafree(&*s);
    finish({c, server});
}

TEST_F(TcpPushTest, BackToBackPushesKeepCallOrder) {
    boot(true);
    int srv = -1;
    const int c = connect_pair(7103, &srv);
    for (int round = 0; round < 4; ++round) {
        bool done_a = false, done_b = false;
        auto mark = [](bool* done) -> rt::Task<void> {
            *done = true;
            co_return;
        };
        ASSERT_TRUE(os->executor().spawn(mark(&done_a)).ok());
        ASSERT_TRUE(os->executor().spawn(mark(&done_b)).ok());
        ASSERT_TRUE(run_until([&] { return done_a && done_b; }));
        demi_sgarray_t first = sga_with(Bytes(3000, static_cast<uint8_t>('a' + round)));
        demi_sgarray_t second = sga_with(Bytes(3000, static_cast<uint8_t>('A' + round)));
        const demi_qtoken_t qa = *os->start_push(c, &first, nullptr, 0);
        const demi_qtoken_t qb = *os->start_push(c, &second, nullptr, 0);
        ASSERT_TRUE(os->sgafree(&first).ok());
        ASSERT_TRUE(os->sgafree(&second).ok());
        EXPECT_EQ(wait(qa).qr_opcode, DEMI_OPC_PUSH);
        EXPECT_EQ(wait(qb).qr_opcode, DEMI_OPC_PUSH);
        Bytes got;
        while (got.size() < 6000) {
            const demi_qresult_t p = wait(*os->start_pop(srv));
            ASSERT_EQ(p.qr_opcode, DEMI_OPC_POP);
            demi_sgarray_t sga = p.qr_value.sga;
            const auto* b = static_cast<const uint8_t*>(sga.sga_segs[0].sgaseg_buf);
            got.insert(got.end(), b, b + sga.sga_segs[0].sgaseg_len);
            ASSERT_TRUE(os->sgafree(&sga).ok());
        }
        ASSERT_EQ(got.size(), 6000u);
        EXPECT_EQ(got[0], 'a' + round) << "round " << round << ": the second push's bytes came first";
        EXPECT_EQ(got[5999], 'A' + round) << "round " << round;
    }
    finish({c, srv});
}

}  // namespace
}  // namespace ringlet::net::test
