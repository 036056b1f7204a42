// Remote-input limits on TCP (issue 15 item 5): the half-open cap per
// listener with eviction of the oldest stale one (net/tcp_half_open.cc)
// under a SYN flood, and the out-of-order queue bound (TCP_OOSEQ_MAX_PBUFS, lwipopts.h)
// under a flood of segments past a gap. Driven with raw segments from a
// scripted peer at 10.0.2.2 through the fake NIC.
#include "libos/mem/dataplane_stats.h"
#include "lwip/opt.h"
#include "net/queues.h"
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

class TcpLimitsTest : public NetTest {
protected:
    // One segment from the peer's port `from` to the listener's port 7.
    void segment(uint16_t from, uint32_t seq, uint32_t ack, uint8_t flags, const Bytes& data = {}) {
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoTcp,
                                          tcp_segment(kPeerIp, kIpA, from, 7, seq, ack, flags, 65535, data))));
    }
    void listen_on_7(int backlog = 8) {
        boot();
        learn_peer();
        listener = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = addr(0, 7);
        ASSERT_TRUE(os->bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a).ok());
        ASSERT_TRUE(os->listen(listener, backlog).ok());
    }
    // The SYN-ACKs among what nic_a sent, counted and removed.
    uint32_t drain_synacks() {
        run_for_ms(1);
        uint32_t n = 0;
        while (!nic_a.sent.empty()) {
            Parsed p = parse(nic_a.sent.front());
            nic_a.sent.pop_front();
            if (p.proto == kProtoTcp && p.flags == (kSyn | kAck)) ++n;
        }
        return n;
    }
    // A full handshake from port `from`; the accepted queue's qd.
    int connect_from(uint16_t from, uint32_t isn, uint32_t* server_next) {
        const demi_qtoken_t qt = *os->start_accept(listener);
        segment(from, isn, 0, kSyn);
        Parsed synack = next_sent(nic_a);
        EXPECT_EQ(synack.flags, kSyn | kAck);
        EXPECT_EQ(synack.dport, from);
        *server_next = synack.seq + 1;
        segment(from, isn + 1, *server_next, kAck);
        const demi_qresult_t r = wait(qt);
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_ACCEPT);
        return r.qr_opcode == DEMI_OPC_ACCEPT ? r.qr_value.ares.qd : -1;
    }
    // The peer sends `data` in order on connection c (from port 40000,
    // first byte at 1001) and the app pops it: the connection works.
    void pop_in_order(int c, uint32_t server_next, const Bytes& data) {
        const demi_qtoken_t pop = *os->start_pop(c);
        segment(40000, 1001, server_next, kPsh | kAck, data);
        demi_qresult_t r = wait(pop);
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
        ASSERT_GE(r.qr_value.sga.sga_segs[0].sgaseg_len, data.size());
        EXPECT_EQ(memcmp(r.qr_value.sga.sga_segs[0].sgaseg_buf, data.data(), data.size()), 0);
        demi_sgarray_t got = r.qr_value.sga;
        EXPECT_TRUE(os->sgafree(&got).ok());
    }
    // Closes c and the listener and lets every timer run out.
    void close_all(int c) {
        EXPECT_TRUE(os->close(c).ok());
        EXPECT_TRUE(os->close(listener).ok());
        run_for_ms(300000);
        stack_abort_orphan_pcbs();
        run_for_ms(1000);  // lwIP's TCP timer stops (its flag outlives lwip_init: see tcp_fast_path_test.cc)
    }
    int listener = -1;
};

TEST_F(TcpLimitsTest, SynFloodIsBoundedAndARealClientStillConnects) {
    listen_on_7();
    const uint32_t pcbs_before = stack_tcp_pcbs();
    const uint64_t evicted_before = mem::g_dataplane_stats.tcp_half_open_evicted;
    const uint64_t dropped_before = mem::g_dataplane_stats.tcp_syn_dropped;
    constexpr uint32_t kFlood = 200;
    auto flood = [&](uint16_t first_port) {
        for (uint32_t i = 0; i < kFlood; ++i) segment(static_cast<uint16_t>(first_port + i), 7000 + i, 0, kSyn);
    };
    // A burst: the first kTcpMaxHalfOpen are answered and kept; the rest,
    // arriving while those are fresh, are dropped (a real client sends again).
    flood(20000);
    EXPECT_EQ(drain_synacks(), kTcpMaxHalfOpen);
    EXPECT_EQ(stack_tcp_pcbs() - pcbs_before, kTcpMaxHalfOpen);
    EXPECT_EQ(mem::g_dataplane_stats.tcp_syn_dropped - dropped_before, kFlood - kTcpMaxHalfOpen);
    EXPECT_EQ(mem::g_dataplane_stats.tcp_half_open_evicted, evicted_before);
    // Once they waited a second for ACKs that never come, new SYNs evict
    // them, oldest first: still never more than kTcpMaxHalfOpen pcbs.
    run_for_ms(1100);
    nic_a.sent.clear();
    flood(30000);
    EXPECT_EQ(drain_synacks(), kTcpMaxHalfOpen);
    EXPECT_EQ(stack_tcp_pcbs() - pcbs_before, kTcpMaxHalfOpen);
    EXPECT_EQ(mem::g_dataplane_stats.tcp_half_open_evicted - evicted_before, kTcpMaxHalfOpen);
    // A real client after the flood: its SYN (or its retransmission a
    // second later) evicts a stale entry; it connects and sends data.
    run_for_ms(1100);
    nic_a.sent.clear();
    uint32_t server_next = 0;
    const int c = connect_from(40000, 1000, &server_next);
    ASSERT_GE(c, 0);
    pop_in_order(c, server_next, Bytes{'o', 'k'});
    // The flood's leftovers time out (SYN_RCVD, 20 s) and free their pcbs.
    close_all(c);
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
}

// redis-benchmark -c 50 opens its connections at once: their SYNs reach the
// guest in one RX batch, before any client can answer its SYN-ACK. With the
// half-open cap fixed at 32, 19 of them were dropped and those clients
// stalled until their SYNs were sent again (~6 s through QEMU's user
// network). A listener with a large backlog answers the whole burst.
TEST_F(TcpLimitsTest, ABurstOfFiftyConnectsToABigBacklogIsAnsweredAtOnce) {
    listen_on_7(128);
    const uint64_t dropped_before = mem::g_dataplane_stats.tcp_syn_dropped;
    constexpr uint16_t kClients = 50;
    static_assert(kClients > kTcpMaxHalfOpen && kClients <= tcp_half_open_cap(128));
    for (uint16_t i = 0; i < kClients; ++i) segment(static_cast<uint16_t>(41000 + i), 5000u * i, 0, kSyn);
    run_for_ms(1);
    uint32_t server_isn[kClients] = {};
    uint32_t synacks = 0;
    while (!nic_a.sent.empty()) {
        Parsed p = parse(nic_a.sent.front());
        nic_a.sent.pop_front();
        if (p.proto != kProtoTcp || p.flags != (kSyn | kAck) || p.dport < 41000 || p.dport >= 41000 + kClients) continue;
        server_isn[p.dport - 41000] = p.seq;
        ++synacks;
    }
    EXPECT_EQ(synacks, kClients);
    EXPECT_EQ(mem::g_dataplane_stats.tcp_syn_dropped, dropped_before);
    // Every client completes its handshake and is accepted.
    for (uint16_t i = 0; i < kClients; ++i) {
        segment(static_cast<uint16_t>(41000 + i), 5000u * i + 1, server_isn[i] + 1, kAck);
    }
    int accepted[kClients];
    for (uint16_t i = 0; i < kClients; ++i) {
        const demi_qresult_t r = wait(*os->start_accept(listener));
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_ACCEPT) << "client " << i;
        accepted[i] = r.qr_value.ares.qd;
    }
    for (int c : accepted) EXPECT_TRUE(os->close(c).ok());
    EXPECT_TRUE(os->close(listener).ok());
    run_for_ms(300000);
    stack_abort_orphan_pcbs();
    run_for_ms(1000);  // lwIP's TCP timer stops (its flag outlives lwip_init: see tcp_fast_path_test.cc)
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
}

TEST_F(TcpLimitsTest, OutOfOrderFloodPinsAtMostTheBoundOfBuffers) {
    listen_on_7();
    uint32_t server_next = 0;
    const int c = connect_from(40000, 1000, &server_next);
    ASSERT_GE(c, 0);
    run_for_ms(1);
    nic_a.sent.clear();
    const uint32_t live_before = os->heap().live();
    // 1-byte segments at every other sequence number past a one-byte gap,
    // all inside the 23 KiB window: each would wait in its own buffer.
    constexpr uint32_t kFlood = 1000;
    for (uint32_t i = 0; i < kFlood; ++i) {
        segment(40000, 1001 + 2 + 2 * (i % 8000), server_next, kAck, Bytes{static_cast<uint8_t>('a' + i % 26)});
    }
    run_for_ms(1);
    EXPECT_LE(os->heap().live() - live_before, static_cast<uint32_t>(TCP_OOSEQ_MAX_PBUFS));
    // The gap filled: the connection goes on with what lwIP kept in order.
    pop_in_order(c, server_next, Bytes{'x', 'y'});
    close_all(c);
    EXPECT_EQ(dma_pbufs_live(), 0u);
}

}  // namespace
}  // namespace ringlet::net::test
