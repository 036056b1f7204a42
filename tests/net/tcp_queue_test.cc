// net/tcp_queue: PDPIX TCP over lwIP, driven through a real LibOs, against a
// minimal TCP peer written in the test and between two interfaces of the
// same stack over a fake wire.
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

using TcpQueueTest = NetTest;

constexpr uint16_t kPeerPort = 40000;

// A scripted TCP peer at 10.0.2.2 talking to 10.0.2.15 through nic_a.
struct Peer {
    NetTest* t;
    FakeNic& nic;
    uint16_t port;       // the stack's port
    uint32_t snd = 1000;  // our next sequence number
    uint32_t rcv = 0;     // what we acknowledge next
    uint16_t from = kPeerPort;  // our port
    void send(uint8_t flags, const Bytes& data = {}, uint16_t window = 65535) {
        nic.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                            ipv4_packet(kPeerIp, kIpA, kProtoTcp,
                                        tcp_segment(kPeerIp, kIpA, from, port, snd, rcv, flags, window, data))));
        snd += static_cast<uint32_t>(data.size()) + ((flags & (kSyn | kFin)) ? 1 : 0);
    }
};

class TcpPeerTest : public TcpQueueTest {
protected:
    Parsed tcp_out() {
        Parsed p = next_sent(nic_a);
        EXPECT_EQ(p.proto, kProtoTcp);
        EXPECT_TRUE(p.ip_checksum_ok);
        EXPECT_TRUE(p.l4_checksum_ok);
        return p;
    }
    // A listener on port 7 and an accepted connection from the peer.
    void establish(Peer& peer, int* listener, int* conn) {
        boot();
        learn_peer();
        *listener = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = addr(0, 7);
        ASSERT_TRUE(os->bind(*listener, reinterpret_cast<sockaddr*>(&a), sizeof a).ok());
        ASSERT_TRUE(os->listen(*listener, 8).ok());
        const demi_qtoken_t qt = *os->start_accept(*listener);
        peer.send(kSyn);
        Parsed synack = tcp_out();
        ASSERT_EQ(synack.flags, kSyn | kAck);
        ASSERT_EQ(synack.ack, 1001u);
        EXPECT_EQ(synack.sport, 7);
        EXPECT_EQ(synack.dport, kPeerPort);
        peer.rcv = synack.seq + 1;
        peer.send(kAck);
        const demi_qresult_t r = wait(qt);
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_ACCEPT);
        EXPECT_EQ(r.qr_value.ares.addr.sin_addr.s_addr, kPeerIp);
        EXPECT_EQ(ntohs(r.qr_value.ares.addr.sin_port), kPeerPort);
        *conn = r.qr_value.ares.qd;
    }
};

TEST_F(TcpPeerTest, HandshakeDataBothWaysAndGracefulClose) {
    Peer peer{this, nic_a, 7};
    int l = -1, c = -1;
    establish(peer, &l, &c);
    // Peer -> app.
    const demi_qtoken_t pop = *os->start_pop(c);
    peer.send(kPsh | kAck, Bytes{'h', 'e', 'l', 'l', 'o'});
    demi_qresult_t r = wait(pop);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    ASSERT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, 5u);
    EXPECT_EQ(memcmp(r.qr_value.sga.sga_segs[0].sgaseg_buf, "hello", 5), 0);
    demi_sgarray_t got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    // App -> peer (our ACK of "hello" may come first).
    demi_sgarray_t sga = sga_with(Bytes{'w', 'o', 'r', 'l', 'd'});
    r = wait(*os->start_push(c, &sga, nullptr, 0));
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_PUSH);
    EXPECT_TRUE(os->sgafree(&sga).ok());
    Parsed d = tcp_out();
    while (d.payload.empty() && !nic_a.sent.empty()) d = tcp_out();
    if (d.payload.empty()) d = tcp_out();
    EXPECT_EQ(d.payload, (Bytes{'w', 'o', 'r', 'l', 'd'}));
    EXPECT_EQ(d.ack, peer.snd);
    peer.rcv = d.seq + 5;
    peer.send(kAck);
    // Peer closes: the app's pop sees end of stream.
    const demi_qtoken_t eof = *os->start_pop(c);
    peer.send(kFin | kAck);
    r = wait(eof);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, 0u);
    got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    // App closes: FIN from lwIP; the peer acknowledges it.
    nic_a.sent.clear();
    EXPECT_TRUE(os->close(c).ok());
    Parsed fin = tcp_out();
    EXPECT_TRUE(fin.flags & kFin);
    peer.rcv = fin.seq + 1;
    peer.send(kAck);
    run_for_ms(1000);
    EXPECT_TRUE(os->close(l).ok());
    EXPECT_EQ(stack_tcp_pcbs(), 0u);  // LAST_ACK done, listener gone
    EXPECT_EQ(dma_pbufs_live(), 0u);
}

TEST_F(TcpPeerTest, ResetFailsThePendingPop) {
    Peer peer{this, nic_a, 7};
    int l = -1, c = -1;
    establish(peer, &l, &c);
    const demi_qtoken_t pop = *os->start_pop(c);
    peer.send(kRst | kAck);
    const demi_qresult_t r = wait(pop);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, ECONNRESET);
    demi_sgarray_t sga = sga_with(Bytes{1});
    const demi_qresult_t p = wait(*os->start_push(c, &sga, nullptr, 0));
    EXPECT_EQ(p.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_TRUE(os->sgafree(&sga).ok());
    EXPECT_TRUE(os->close(c).ok());
    EXPECT_TRUE(os->close(l).ok());
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
}

// A pop with nothing received waits on the connection itself (no task) and
// is completed from lwIP's receive callback; one with data already there,
// or the end of the stream, completes inside start_pop.
TEST_F(TcpPeerTest, PopsNeedNoTaskWaitingOrNot) {
    Peer peer{this, nic_a, 7};
    int l = -1, c = -1;
    establish(peer, &l, &c);
    const uint32_t tasks = os->executor().live_tasks();
    const demi_qtoken_t waiting = *os->start_pop(c);
    EXPECT_EQ(os->executor().live_tasks(), tasks) << "no task spawned for a waiting pop";
    peer.send(kPsh | kAck, Bytes{'a', 'b'});
    demi_qresult_t r = wait(waiting);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    ASSERT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, 2u);
    EXPECT_EQ(memcmp(r.qr_value.sga.sga_segs[0].sgaseg_buf, "ab", 2), 0);
    demi_sgarray_t got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    // Data and FIN arrive before the app asks: both pops complete at once.
    peer.send(kPsh | kAck, Bytes{'c'});
    peer.send(kFin | kAck);
    run_for_ms(1);
    const demi_qtoken_t now = *os->start_pop(c);
    EXPECT_EQ(os->executor().live_tasks(), tasks);
    r = wait(now);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    ASSERT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, 1u);
    EXPECT_EQ(*static_cast<const char*>(r.qr_value.sga.sga_segs[0].sgaseg_buf), 'c');
    got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    r = wait(*os->start_pop(c));
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, 0u) << "end of stream";
    got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    EXPECT_TRUE(os->close(c).ok());
    EXPECT_TRUE(os->close(l).ok());
    run_for_ms(1000);
    EXPECT_EQ(dma_pbufs_live(), 0u);
}

TEST_F(TcpPeerTest, WindowReopensOnlyWhenTheAppPops) {
    Peer peer{this, nic_a, 7};
    int l = -1, c = -1;
    establish(peer, &l, &c);
    // Fill the advertised window without the app popping.
    for (int i = 0; i < 16; ++i) peer.send(kAck, Bytes(1460, static_cast<uint8_t>(i)));
    run_for_ms(500);
    Parsed last{};
    while (!nic_a.sent.empty()) last = tcp_out();
    EXPECT_EQ(last.ack, peer.snd);
    EXPECT_LT(last.window, 1460);  // closed (or nearly): flow control holds
    const uint32_t live = os->heap().live();
    // Popping everything reopens it.
    uint32_t total = 0;
    while (total < 16 * 1460) {
        const demi_qresult_t r = wait(*os->start_pop(c));
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
        const auto* data = static_cast<const uint8_t*>(r.qr_value.sga.sga_segs[0].sgaseg_buf);
        for (uint32_t i = 0; i < r.qr_value.sga.sga_segs[0].sgaseg_len; ++i) {
            ASSERT_EQ(data[i], static_cast<uint8_t>((total + i) / 1460));
        }
        total += r.qr_value.sga.sga_segs[0].sgaseg_len;
        demi_sgarray_t got = r.qr_value.sga;
        EXPECT_TRUE(os->sgafree(&got).ok());
    }
    run_for_ms(500);
    Parsed update{};
    while (!nic_a.sent.empty()) update = tcp_out();
    EXPECT_GE(update.window, 8 * 1460);
    EXPECT_LT(os->heap().live(), live);  // the RX frames went back as popped
    EXPECT_TRUE(os->close(c).ok());
    EXPECT_TRUE(os->close(l).ok());
}

TEST_F(TcpPeerTest, CloseWithUnreadDataResetsAndLeaksNothing) {
    Peer peer{this, nic_a, 7};
    int l = -1, c = -1;
    establish(peer, &l, &c);
    const uint32_t live = os->heap().live();
    peer.send(kPsh | kAck, Bytes(3000, 7));
    run_for_ms(100);
    nic_a.sent.clear();
    EXPECT_TRUE(os->close(c).ok());
    Parsed rst = tcp_out();
    EXPECT_TRUE(rst.flags & kRst);
    EXPECT_EQ(os->heap().live(), live);
    EXPECT_EQ(dma_pbufs_live(), 0u);
    EXPECT_TRUE(os->close(l).ok());
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
}

TEST_F(TcpPeerTest, UnacceptedConnectionsAreResetWhenTheListenerCloses) {
    Peer peer{this, nic_a, 7};
    int l = -1, c = -1;
    establish(peer, &l, &c);
    EXPECT_TRUE(os->close(c).ok());
    Peer second{this, nic_a, 7};
    second.snd = 5000;
    second.from = kPeerPort + 1;  // the first connection still holds 40000
    // Another connection completes the handshake but is never accepted.
    nic_a.sent.clear();
    second.send(kSyn);
    Parsed synack = tcp_out();
    ASSERT_EQ(synack.flags, kSyn | kAck);
    second.rcv = synack.seq + 1;
    second.send(kAck);
    run_for_ms(10);
    nic_a.sent.clear();
    EXPECT_TRUE(os->close(l).ok());
    bool reset = false;
    while (!nic_a.sent.empty()) reset |= (tcp_out().flags & kRst) != 0;
    EXPECT_TRUE(reset);
    run_for_ms(300000);  // TIME_WAIT and retransmissions run out
    stack_abort_orphan_pcbs();
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
}

TEST_F(TcpPeerTest, ConnectToAClosedPortIsRefused) {
    boot();
    learn_peer();
    const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in to = addr(kPeerIp, 9);
    const demi_qtoken_t qt = *os->start_connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    Parsed syn = tcp_out();
    ASSERT_EQ(syn.flags, kSyn);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoTcp,
                                      tcp_segment(kPeerIp, kIpA, 9, syn.sport, 0, syn.seq + 1, kRst | kAck, 0, {}))));
    const demi_qresult_t r = wait(qt);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, ECONNRESET);
    EXPECT_TRUE(os->close(c).ok());
    EXPECT_EQ(stack_tcp_pcbs(), 0u);
}

TEST_F(TcpPeerTest, ConnectWithNoAnswerTimesOut) {
    boot();
    learn_peer();
    const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in to = addr(kPeerIp, 9);
    const demi_qresult_t r =
        wait(*os->start_connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to), 10 * 60 * 1000);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, ETIMEDOUT);
    EXPECT_GE(nic_a.sent.size(), 3u);  // the SYN was retransmitted
    EXPECT_TRUE(os->close(c).ok());
}

}  // namespace
}  // namespace ringlet::net::test
