// The TCP receive fast path (net/tcp_fast_path.h): its parser against the
// test-side packet crafter, and the path in use against a scripted peer -
// taken for in-order data and ACKs of new data on an established
// connection, left to lwIP for everything else (out of order, FIN, RST, SYN,
// a zero window, a duplicate ACK), with lwIP's retransmission timer still
// resending what the peer never acknowledged.
#include "net/tcp_fast_path.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "libos/mem/dataplane_stats.h"
#include "lwip/tcp.h"
#include "tests/net/net_fixture.h"
#include "tests/net/packet.h"

namespace ringlet::net::test {
namespace {

constexpr uint16_t kPort = 7;
constexpr uint16_t kFrom = 40000;

Bytes frame_of(uint32_t seq, uint32_t ack, uint8_t flags, const Bytes& data, uint16_t window = 65535) {
    return ethernet(kMacA, kPeerMac, kEthIpv4,
                    ipv4_packet(kPeerIp, kIpA, kProtoTcp, tcp_segment(kPeerIp, kIpA, kFrom, kPort, seq, ack, flags, window, data)));
}

// Parses f from a 2-aligned copy (as the device's buffers are).
bool accepts(const Bytes& f, TcpFrame* out, bool verified = false) {
    alignas(8) uint8_t copy[2048];
    memcpy(copy, f.data(), f.size());
    return parse_tcp_frame(copy, static_cast<uint32_t>(f.size()), verified, out);
}

TEST(TcpFastPathParse, AcceptsAPlainSegmentAndFindsItsFields) {
    TcpFrame t{};
    ASSERT_TRUE(accepts(frame_of(0x01020304, 0xa0b0c0d0, kAck | kPsh, Bytes{1, 2, 3}, 1234), &t));
    EXPECT_EQ(t.src_ip, kPeerIp);
    EXPECT_EQ(t.dst_ip, kIpA);
    EXPECT_EQ(t.src_port, kFrom);
    EXPECT_EQ(t.dst_port, kPort);
    EXPECT_EQ(t.seqno, 0x01020304u);
    EXPECT_EQ(t.ackno, 0xa0b0c0d0u);
    EXPECT_EQ(t.wnd, 1234);
    EXPECT_EQ(t.flags, kAck | kPsh);
    EXPECT_EQ(t.payload_len, 3u);
    // Ethernet padding after a short segment is not payload.
    Bytes padded = frame_of(1, 2, kAck, Bytes{});
    padded.resize(60, 0);
    ASSERT_TRUE(accepts(padded, &t));
    EXPECT_EQ(t.payload_len, 0u);
}

TEST(TcpFastPathParse, LeavesEverythingElseToLwip) {
    TcpFrame t{};
    const Bytes good = frame_of(1, 2, kAck, Bytes{9, 9, 9, 9});
    Bytes bad = good;
    bad[good.size() - 1] ^= 1;  // payload changed: TCP checksum wrong
    EXPECT_FALSE(accepts(bad, &t));
    EXPECT_TRUE(accepts(bad, &t, /*verified=*/true)) << "the NIC vouched for it";
    bad = good;
    bad[14 + 20 + 12] = 0x60;  // data offset 6: an option
    EXPECT_FALSE(accepts(bad, &t));
    bad = good;
    bad[14 + 6] = 0x20;  // MF: a fragment (header checksum now wrong too)
    EXPECT_FALSE(accepts(bad, &t));
    bad = good;
    bad[14 + 9] = kProtoUdp;
    EXPECT_FALSE(accepts(bad, &t));
    Bytes udp = ethernet(kMacA, kPeerMac, kEthIpv4, ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 1, 2, Bytes{1})));
    EXPECT_FALSE(accepts(udp, &t));
    EXPECT_FALSE(accepts(Bytes(good.begin(), good.begin() + 50), &t)) << "truncated";
    // An odd address: left to lwIP (the device's buffers never are).
    alignas(8) uint8_t copy[256];
    memcpy(copy + 1, good.data(), good.size());
    EXPECT_FALSE(parse_tcp_frame(copy + 1, static_cast<uint32_t>(good.size()), false, &t));
}

class TcpFastPathTest : public NetTest {
protected:
    // A listener on port 7 and the connection the peer opens to it.
    void establish() {
        boot();
        learn_peer();
        m_listener = *os->socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = addr(0, kPort);
        ASSERT_TRUE(os->bind(m_listener, reinterpret_cast<sockaddr*>(&a), sizeof a).ok());
        ASSERT_TRUE(os->listen(m_listener, 8).ok());
        const demi_qtoken_t qt = *os->start_accept(m_listener);
        send(kSyn);
        Parsed synack = next_sent(nic_a);
        ASSERT_EQ(synack.flags, kSyn | kAck);
        m_rcv = synack.seq + 1;
        send(kAck);
        const demi_qresult_t r = wait(qt);
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_ACCEPT);
        m_conn = r.qr_value.ares.qd;
        nic_a.sent.clear();
    }
    // The peer sends a segment at its next sequence number (or at `seq`).
    void send(uint8_t flags, const Bytes& data = {}, uint16_t window = 65535) { send_at(m_snd, flags, data, window); }
    void send_at(uint32_t seq, uint8_t flags, const Bytes& data = {}, uint16_t window = 65535) {
        nic_a.inject(frame_of(seq, m_rcv, flags, data, window));
        if (seq == m_snd) m_snd += static_cast<uint32_t>(data.size()) + ((flags & (kSyn | kFin)) ? 1 : 0);
    }
    // Pops what the app has and checks it is `want`.
    void expect_pop(const Bytes& want) {
        const demi_qresult_t r = wait(*os->start_pop(m_conn));
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
        const auto& seg = r.qr_value.sga.sga_segs[0];
        EXPECT_EQ(Bytes(static_cast<uint8_t*>(seg.sgaseg_buf), static_cast<uint8_t*>(seg.sgaseg_buf) + seg.sgaseg_len), want);
        demi_sgarray_t got = r.qr_value.sga;
        EXPECT_TRUE(os->sgafree(&got).ok());
    }
    // Pops `want` and pushes the very buffer back (an echo's zero-copy
    // habit: the headers go into the headroom the received ones left);
    // the segment it leaves in.
    Parsed echo_pop(const Bytes& want) {
        const demi_qresult_t r = wait(*os->start_pop(m_conn));
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_POP);
        demi_sgarray_t got = r.qr_value.sga;
        const auto& seg = got.sga_segs[0];
        EXPECT_EQ(Bytes(static_cast<uint8_t*>(seg.sgaseg_buf), static_cast<uint8_t*>(seg.sgaseg_buf) + seg.sgaseg_len), want);
        const demi_qresult_t p = wait(*os->start_push(m_conn, &got, nullptr, 0));
        EXPECT_EQ(p.qr_opcode, DEMI_OPC_PUSH);
        EXPECT_TRUE(os->sgafree(&got).ok());
        Parsed out = next_sent(nic_a);
        EXPECT_TRUE(out.ip_checksum_ok);
        EXPECT_TRUE(out.l4_checksum_ok);
        return out;
    }
    // The app pushes `data` from a fresh buffer; the segment it leaves in.
    Parsed push(const Bytes& data) {
        demi_sgarray_t sga = sga_with(data);
        const demi_qresult_t r = wait(*os->start_push(m_conn, &sga, nullptr, 0));
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_PUSH);
        EXPECT_TRUE(os->sgafree(&sga).ok());
        Parsed p = next_sent(nic_a);
        EXPECT_TRUE(p.l4_checksum_ok);
        return p;
    }
    uint64_t hits() const { return mem::g_dataplane_stats.tcp_fast_hits; }
    uint64_t misses() const { return mem::g_dataplane_stats.tcp_fast_fallback; }
    void close_all() {
        EXPECT_TRUE(os->close(m_conn).ok());
        EXPECT_TRUE(os->close(m_listener).ok());
        run_for_ms(300000);
        stack_abort_orphan_pcbs();
        // lwIP's TCP timer stops itself at its next tick with no pcb left;
        // its "running" flag outlives lwip_init (timeouts.c), so a test
        // that ended with it set would leave the next one without TCP
        // timers (no retransmission, no TIME_WAIT expiry).
        run_for_ms(1000);
        EXPECT_FALSE(LwipBackend::tcp_timer_running());
        EXPECT_EQ(dma_pbufs_live(), 0u);
    }

    int m_listener = -1;
    int m_conn = -1;
    uint32_t m_snd = 1000;  // the peer's next sequence number
    uint32_t m_rcv = 0;     // what the peer acknowledges
};

TEST_F(TcpFastPathTest, InOrderDataAndItsAcknowledgementsTakeTheFastPath) {
    establish();
    const uint64_t h = hits(), m = misses();
    // Request, reply, request acknowledging the reply: an echo's pattern.
    send(kAck | kPsh, Bytes{'p', 'i', 'n', 'g'});
    const uint64_t sent_fast = mem::g_dataplane_stats.tcp_fast_tx;
    const Parsed reply = echo_pop(Bytes{'p', 'i', 'n', 'g'});
    EXPECT_EQ(mem::g_dataplane_stats.tcp_fast_tx, sent_fast + 1) << "sent from the buffer's headroom";
    EXPECT_EQ(reply.payload, (Bytes{'p', 'i', 'n', 'g'}));
    EXPECT_EQ(reply.ack, m_snd) << "the reply carries the ACK of the request";
    EXPECT_TRUE(nic_a.sent.empty()) << "no separate pure ACK";
    EXPECT_EQ(reply.sport, kPort);
    EXPECT_EQ(reply.dport, kFrom);
    m_rcv = reply.seq + 4;
    const uint32_t live = os->heap().live();
    send(kAck | kPsh, Bytes{'a', 'g', 'a', 'i', 'n'});
    expect_pop(Bytes{'a', 'g', 'a', 'i', 'n'});
    EXPECT_LT(os->heap().live(), live) << "the acknowledged reply's buffer went back";
    // A pure ACK of new data takes it too.
    const Parsed reply2 = push(Bytes{'x'});
    m_rcv = reply2.seq + 1;
    send(kAck);
    run_for_ms(1);
    EXPECT_TRUE(nic_a.sent.empty());
    // Data nothing answers: lwIP's fast timer sends the delayed ACK.
    send(kAck | kPsh, Bytes{'l', 'a', 's', 't'});
    expect_pop(Bytes{'l', 'a', 's', 't'});
    EXPECT_EQ(hits() - h, 4u);
    EXPECT_EQ(misses(), m);
    const Parsed ack = next_sent(nic_a);
    EXPECT_EQ(ack.flags & kAck, kAck);
    EXPECT_EQ(ack.ack, m_snd);
    close_all();
}

// A pop already waiting takes an in-order segment straight from the fast
// path (tcp_take_direct: no pbuf, no recv callback): the app gets the RX
// buffer the segment arrived in, the receive window never shrinks, and
// data queued before (no pop waiting) still comes out first, in order.
TEST_F(TcpFastPathTest, APopWaitingTakesTheSegmentInItsRxBufferInOrder) {
    establish();
    const uint64_t h = hits(), lent = mem::g_dataplane_stats.rx_lent;
    // Nothing waits: two segments queue (through pbufs) and pop in order.
    send(kAck | kPsh, Bytes{'o', 'n', 'e'});
    send(kAck | kPsh, Bytes{'t', 'w', 'o'});
    const demi_qtoken_t parked = *os->start_pop(m_conn);  // completes with "one" at once
    expect_pop(Bytes{'t', 'w', 'o'});
    const demi_qresult_t first = wait(parked);
    ASSERT_EQ(first.qr_opcode, DEMI_OPC_POP);
    demi_sgarray_t one = first.qr_value.sga;
    EXPECT_EQ(Bytes(static_cast<uint8_t*>(one.sga_segs[0].sgaseg_buf), static_cast<uint8_t*>(one.sga_segs[0].sgaseg_buf) + 3),
              (Bytes{'o', 'n', 'e'}));
    EXPECT_TRUE(os->sgafree(&one).ok());
    // A pop waits, then the segment comes: handed over in its RX buffer.
    const demi_qtoken_t waiting = *os->start_pop(m_conn);
    run_for_ms(500);  // the delayed ACK of "one" and "two" goes out
    nic_a.sent.clear();
    const uint64_t copied = mem::g_dataplane_stats.payload_bytes_copied;
    send(kAck | kPsh, Bytes{'d', 'i', 'r', 'e', 'c', 't'});
    const demi_qresult_t r = wait(waiting);
    EXPECT_EQ(mem::g_dataplane_stats.payload_bytes_copied, copied);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    demi_sgarray_t got = r.qr_value.sga;
    ASSERT_EQ(got.sga_segs[0].sgaseg_len, 6u);
    const auto* at = static_cast<uint8_t*>(got.sga_segs[0].sgaseg_buf);
    EXPECT_EQ(Bytes(at, at + 6), (Bytes{'d', 'i', 'r', 'e', 'c', 't'}));
    EXPECT_TRUE(os->heap().contains(at)) << "the payload is where the device wrote it";
    EXPECT_EQ(hits() - h, 3u);
    EXPECT_EQ(mem::g_dataplane_stats.rx_lent - lent, 3u);
    // The reply acknowledges all of it and announces the whole window again
    // (every byte was consumed the moment it arrived).
    const demi_qresult_t p = wait(*os->start_push(m_conn, &got, nullptr, 0));
    EXPECT_EQ(p.qr_opcode, DEMI_OPC_PUSH);
    EXPECT_TRUE(os->sgafree(&got).ok());
    Parsed reply = next_sent(nic_a);
    if (reply.payload.empty()) reply = next_sent(nic_a);  // the fast timer's delayed ACK may come first
    EXPECT_EQ(reply.ack, m_snd);
    EXPECT_EQ(reply.payload, (Bytes{'d', 'i', 'r', 'e', 'c', 't'}));
    EXPECT_GE(reply.window, TCP_WND - TCP_MSS) << "the window was not left shrunk";
    m_rcv = reply.seq + 6;
    send(kAck);
    run_for_ms(1);
    close_all();
}

TEST_F(TcpFastPathTest, AnAppsOwnSgaallocBufferIsSentFromItsHeadroom) {
    // demi_sgaalloc's headroom (DmaHeap::kHeadroom) holds the virtio,
    // Ethernet, IPv4 and TCP headers (66 bytes): a reply the app builds in
    // a fresh buffer (kv, httpd) leaves as one segment from that buffer.
    establish();
    const uint64_t sent_fast = mem::g_dataplane_stats.tcp_fast_tx;
    const Parsed p = push(Bytes{'+', 'O', 'K', '\r', '\n'});
    EXPECT_EQ(mem::g_dataplane_stats.tcp_fast_tx, sent_fast + 1) << "sent from the sgaalloc'd buffer's headroom";
    EXPECT_EQ(p.payload, (Bytes{'+', 'O', 'K', '\r', '\n'}));
    m_rcv = p.seq + 5;
    send(kAck);  // acknowledged: lwIP lets the buffer go
    run_for_ms(1);
    close_all();
}

TEST_F(TcpFastPathTest, OutOfOrderFinRstSynZeroWindowAndDuplicateAcksGoToLwip) {
    establish();
    const uint64_t h = hits();
    // A segment past a gap: lwIP queues it and asks for the missing bytes.
    const uint32_t gap = m_snd;
    send_at(gap + 3, kAck | kPsh, Bytes{'d', 'e', 'f'});
    run_for_ms(1);
    EXPECT_EQ(hits(), h);
    const Parsed dup = next_sent(nic_a);
    EXPECT_EQ(dup.ack, gap) << "an immediate duplicate ACK";
    // The gap filled: in order, but out-of-order data is queued: lwIP's.
    send(kAck | kPsh, Bytes{'a', 'b', 'c'});
    m_snd += 3;
    expect_pop(Bytes{'a', 'b', 'c'});
    expect_pop(Bytes{'d', 'e', 'f'});
    EXPECT_EQ(hits(), h);
    nic_a.sent.clear();
    // A SYN on the established connection: lwIP answers with an ACK.
    nic_a.inject(frame_of(m_snd, m_rcv, kSyn | kAck, Bytes{}));  // takes no sequence number here
    run_for_ms(1);
    EXPECT_EQ(hits(), h);
    // A pure ACK that acknowledges nothing new (a duplicate ACK or a window
    // update), then data (fast), then data closing the window to zero.
    send(kAck);
    run_for_ms(1);
    EXPECT_EQ(hits(), h);
    send(kAck | kPsh, Bytes{'y'});
    send(kAck | kPsh, Bytes{'z'}, /*window=*/0);
    expect_pop(Bytes{'y'});
    expect_pop(Bytes{'z'});
    EXPECT_EQ(hits(), h + 1);
    // Data reopening the window: fast again.
    send(kAck | kPsh, Bytes{'o', 'k'});
    expect_pop(Bytes{'o', 'k'});
    EXPECT_EQ(hits(), h + 2);
    // FIN: end of stream, through lwIP.
    send(kAck | kFin);
    const demi_qresult_t eof = wait(*os->start_pop(m_conn));
    ASSERT_EQ(eof.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(eof.qr_value.sga.sga_segs[0].sgaseg_len, 0u);
    demi_sgarray_t got = eof.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    EXPECT_EQ(hits(), h + 2);
    close_all();
}

// A NIC that verifies and fills in TCP checksums: the receive side skips
// the check for frames it vouches for, the send side leaves the sum to it.
TEST_F(TcpFastPathTest, BothWaysWithChecksumOffload) {
    nic_a.offload.tx_checksum = nic_a.offload.rx_checksum = true;
    nic_a.mark_rx_verified = true;
    establish();
    const uint64_t h = hits(), sent_fast = mem::g_dataplane_stats.tcp_fast_tx;
    const uint32_t requests = nic_a.csum_requests;
    send(kAck | kPsh, Bytes{'s', 'u', 'm'});
    const Parsed reply = echo_pop(Bytes{'s', 'u', 'm'});  // checks the sums on the wire
    EXPECT_EQ(reply.payload, (Bytes{'s', 'u', 'm'}));
    EXPECT_EQ(hits(), h + 1);
    EXPECT_EQ(mem::g_dataplane_stats.tcp_fast_tx, sent_fast + 1);
    EXPECT_EQ(nic_a.csum_requests, requests + 1);
    EXPECT_EQ(nic_a.wire_checksum_errors, 0u);
    m_rcv = reply.seq + 3;
    send(kAck);
    run_for_ms(1);
    EXPECT_EQ(hits(), h + 2);
    close_all();
}

TEST_F(TcpFastPathTest, RstGoesToLwipAndFailsThePop) {
    establish();
    const uint64_t h = hits();
    const demi_qtoken_t pop = *os->start_pop(m_conn);
    send(kRst | kAck);
    const demi_qresult_t r = wait(pop);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(hits(), h);
    close_all();
}

TEST_F(TcpFastPathTest, ALostReplyIsStillRetransmittedByLwip) {
    establish();
    // The reply, sent by the send fast path, is "lost": the peer never
    // acknowledges it, but keeps sending requests (fast path, no new ACK).
    send(kAck | kPsh, Bytes{'l', 'o', 's', 't'});
    const uint64_t sent_fast = mem::g_dataplane_stats.tcp_fast_tx;
    const Parsed reply = echo_pop(Bytes{'l', 'o', 's', 't'});
    EXPECT_EQ(mem::g_dataplane_stats.tcp_fast_tx, sent_fast + 1);
    const uint64_t h = hits();
    send(kAck | kPsh, Bytes{'m', 'o', 'r', 'e'});
    expect_pop(Bytes{'m', 'o', 'r', 'e'});
    EXPECT_EQ(hits(), h + 1);
    EXPECT_TRUE(nic_a.sent.empty());
    // lwIP's retransmission timer sends the same bytes again.
    Parsed again;
    do {
        again = next_sent(nic_a);
    } while (again.payload.empty() && again.ok);
    EXPECT_EQ(again.seq, reply.seq);
    EXPECT_EQ(again.payload, (Bytes{'l', 'o', 's', 't'}));
    EXPECT_TRUE(again.l4_checksum_ok);
    // The ACK that ends RTO recovery is lwIP's; after it, no more
    // retransmissions, and requests take the fast path again.
    m_rcv = reply.seq + 4;
    send(kAck);
    run_for_ms(1);
    EXPECT_EQ(hits(), h + 1);
    nic_a.sent.clear();
    run_for_ms(10000);
    for (const Bytes& f : nic_a.sent) EXPECT_TRUE(parse(f).payload.empty()) << "retransmitted after the ACK";
    send(kAck | kPsh, Bytes{'n', 'e', 'x', 't'});
    expect_pop(Bytes{'n', 'e', 'x', 't'});
    EXPECT_EQ(hits(), h + 2);
    close_all();
}

}  // namespace
}  // namespace ringlet::net::test
