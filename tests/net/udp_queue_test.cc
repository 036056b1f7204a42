// net/udp_queue: PDPIX UDP over lwIP, driven through a real LibOs.
#include "libos/mem/dataplane_stats.h"
#include "net/queues.h"
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

using UdpQueueTest = NetTest;

Bytes pattern(size_t n, uint8_t seed) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31);
    return b;
}

int udp_socket(pdpix::LibOs& os, uint32_t ip, uint16_t port) {
    auto qd = os.socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TRUE(qd.ok());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = ip;
    a.sin_port = htons(port);
    EXPECT_TRUE(os.bind(*qd, reinterpret_cast<sockaddr*>(&a), sizeof a).ok());
    return *qd;
}

TEST_F(UdpQueueTest, PopSeesADatagramSentToTheBoundPort) {
    boot();
    const int qd = udp_socket(*os, 0, 5555);
    const demi_qtoken_t qt = *os->start_pop(qd);
    const Bytes payload = pattern(1472, 3);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 4000, 5555, payload))));
    const demi_qresult_t r = wait(qt);
    ASSERT_EQ(last_wait, 0);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    const demi_sgarray_t& sga = r.qr_value.sga;
    ASSERT_EQ(sga.sga_segs[0].sgaseg_len, payload.size());
    EXPECT_EQ(memcmp(sga.sga_segs[0].sgaseg_buf, payload.data(), payload.size()), 0);
    EXPECT_EQ(sga.sga_addr.sin_addr.s_addr, kPeerIp);
    EXPECT_EQ(ntohs(sga.sga_addr.sin_port), 4000);
    demi_sgarray_t copy = sga;
    EXPECT_TRUE(os->sgafree(&copy).ok());
    // A datagram for another port is not delivered here.
    const demi_qtoken_t qt2 = *os->start_pop(qd);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 4000, 5556, Bytes{1}))));
    wait(qt2, 500);
    EXPECT_EQ(last_wait, ETIMEDOUT);
    EXPECT_TRUE(os->close(qd).ok());
}

TEST_F(UdpQueueTest, PushtoProducesACorrectFrameWithoutCopyingThePayload) {
    boot();
    learn_peer();
    const int qd = udp_socket(*os, kIpA, 6000);
    const Bytes payload = pattern(1000, 9);
    demi_sgarray_t sga = sga_with(payload);
    const sockaddr_in to = addr(kPeerIp, 7000);
    const uint64_t copied = mem::g_dataplane_stats.payload_bytes_copied;
    const demi_qtoken_t qt = *os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    const demi_qresult_t r = wait(qt);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_PUSH);
    ASSERT_EQ(nic_a.sent.size(), 1u);
    // One descriptor: the headers were prepended in the app's own buffer's
    // headroom, so the frame the device reads starts 42 bytes before the
    // app's bytes, inside the buffer the app pushed.
    EXPECT_EQ(nic_a.last_segments, 1u);
    auto pushed = os->heap().owner_of(sga.sga_segs[0].sgaseg_buf);
    ASSERT_TRUE(pushed.ok());
    EXPECT_EQ(nic_a.last_buffers[0], *pushed);
    EXPECT_EQ(nic_a.last_buffers[0]->data() + nic_a.last_offsets[0] + 42, sga.sga_segs[0].sgaseg_buf);
    EXPECT_EQ(mem::g_dataplane_stats.payload_bytes_copied, copied);
    Parsed p = next_sent(nic_a);
    EXPECT_TRUE(same_mac(p.dst, kPeerMac));
    EXPECT_TRUE(same_mac(p.src, kMacA));
    ASSERT_TRUE(p.ip);
    EXPECT_TRUE(p.ip_checksum_ok);
    EXPECT_EQ(p.proto, kProtoUdp);
    EXPECT_EQ(p.ip_src, kIpA);
    EXPECT_EQ(p.ip_dst, kPeerIp);
    EXPECT_EQ(p.ip_total, 20 + 8 + payload.size());
    EXPECT_EQ(p.sport, 6000);
    EXPECT_EQ(p.dport, 7000);
    EXPECT_TRUE(p.l4_checksum_ok);
    EXPECT_EQ(p.payload, payload);
    EXPECT_TRUE(os->sgafree(&sga).ok());
    EXPECT_TRUE(os->close(qd).ok());
    EXPECT_EQ(dma_pbufs_live(), 0u);
}

// The fast path keeps the next hop's MAC between datagrams of a flow and
// asks lwIP's ARP table again only after lwIP may have changed it: a peer
// that announces a new MAC gets the very next datagram at the new one.
TEST_F(UdpQueueTest, AFlowFollowsItsNeighbourToANewMac) {
    boot();
    learn_peer();
    const int qd = udp_socket(*os, kIpA, 6003);
    const sockaddr_in to = addr(kPeerIp, 7000);
    constexpr MacAddress kMoved{{0x02, 0x00, 0x00, 0x00, 0x00, 0x77}};
    const uint64_t fast = mem::g_dataplane_stats.tx_in_place;
    auto push_one = [&](uint8_t seed) {
        const Bytes payload = pattern(64, seed);
        demi_sgarray_t sga = sga_with(payload);
        const demi_qresult_t r = wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to));
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_PUSH);
        Parsed p = next_sent(nic_a);
        EXPECT_TRUE(p.l4_checksum_ok);
        EXPECT_EQ(p.payload, payload);
        EXPECT_TRUE(os->sgafree(&sga).ok());
        return p;
    };
    EXPECT_TRUE(same_mac(push_one(1).dst, kPeerMac));
    EXPECT_TRUE(same_mac(push_one(2).dst, kPeerMac));  // the kept MAC
    // The peer moves (a gratuitous ARP reply to us from its address).
    nic_a.inject(ethernet(kMacA, kMoved, kEthArp, arp(2, kMoved, kPeerIp, kMacA, kIpA)));
    run_for_ms(1);
    EXPECT_TRUE(same_mac(push_one(3).dst, kMoved));
    EXPECT_TRUE(same_mac(push_one(4).dst, kMoved));
    EXPECT_EQ(mem::g_dataplane_stats.tx_in_place, fast + 4);  // every one on the fast path
    EXPECT_TRUE(os->close(qd).ok());
}

TEST_F(UdpQueueTest, PushToAnUnresolvedHostWaitsForArpAndFreeingEarlyIsSafe) {
    boot();
    const int qd = udp_socket(*os, 0, 6001);
    const uint32_t live = os->heap().live();
    const Bytes payload = pattern(300, 1);
    demi_sgarray_t sga = sga_with(payload);
    const sockaddr_in to = addr(kPeerIp, 7000);
    const demi_qtoken_t qt = *os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    EXPECT_TRUE(os->sgafree(&sga).ok());  // the app lets go before the frame leaves
    wait(qt);
    Parsed q = next_sent(nic_a);
    ASSERT_EQ(q.arp_op, 1);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthArp, arp(2, kPeerMac, kPeerIp, kMacA, kIpA)));
    Parsed p = next_sent(nic_a);
    EXPECT_TRUE(p.l4_checksum_ok);
    EXPECT_EQ(p.payload, payload);
    run_for_ms(10);
    EXPECT_EQ(os->heap().live(), live);  // the queued pbuf held the buffer until sent
    EXPECT_TRUE(os->close(qd).ok());
}

TEST_F(UdpQueueTest, LargeDatagramsAreFragmentedAndPushWithoutAddressIsRefused) {
    boot();
    learn_peer();
    const int qd = udp_socket(*os, 0, 6002);
    demi_sgarray_t sga = sga_with(pattern(4000, 2));
    const sockaddr_in to = addr(kPeerIp, 7000);
    wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to));
    run_for_ms(1);
    EXPECT_EQ(nic_a.sent.size(), 3u);  // 1480 + 1480 + 1048 bytes of IP payload
    for (const Bytes& f : nic_a.sent) {
        Parsed p = parse(f);
        EXPECT_TRUE(p.ip_checksum_ok);
        EXPECT_LE(f.size(), 1514u);
    }
    const demi_qresult_t r = wait(*os->start_push(qd, &sga, nullptr, 0));
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, EINVAL);
    EXPECT_TRUE(os->sgafree(&sga).ok());
    EXPECT_TRUE(os->close(qd).ok());
}

TEST_F(UdpQueueTest, BindConflictsAndCloseWithQueuedDatagramsLeaksNothing) {
    boot();
    const int a = udp_socket(*os, 0, 5000);
    auto b = os->socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in same = addr(0, 5000);
    EXPECT_EQ(os->bind(*b, reinterpret_cast<sockaddr*>(&same), sizeof same).error(), Error::Exists);
    const uint32_t live = os->heap().live();
    for (int i = 0; i < 10; ++i) {
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 1, 5000, pattern(100, 1)))));
    }
    run_for_ms(10);
    EXPECT_GT(os->heap().live(), live);  // queued, waiting for pops
    EXPECT_TRUE(os->close(a).ok());
    EXPECT_TRUE(os->close(*b).ok());
    EXPECT_EQ(os->heap().live(), live);
    EXPECT_EQ(stack_udp_pcbs(), 0u);
}

// The receive backlog counts the DMA memory queued datagrams pin (their
// whole buffers), not datagrams: a flood of small ones stops at
// kUdpRxBacklogBytes, the rest is dropped and counted, and the queue takes
// datagrams again once the app pops.
TEST_F(UdpQueueTest, ReceiveBacklogIsBoundedInBytes) {
    boot();
    const int qd = udp_socket(*os, 0, 5001);
    const uint32_t live = os->heap().live();
    const size_t bytes = os->heap().bytes_live();
    const uint64_t dropped = mem::g_dataplane_stats.udp_rx_dropped;
    constexpr uint32_t kFlood = 3000;
    for (uint32_t i = 0; i < kFlood; ++i) {
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 1, 5001, pattern(200, 1)))));
    }
    run_for_ms(10);
    const uint32_t queued = os->heap().live() - live;
    EXPECT_LE(os->heap().bytes_live() - bytes, kUdpRxBacklogBytes);
    EXPECT_GT(queued, 0u);
    EXPECT_LT(queued, kFlood);
    EXPECT_EQ(mem::g_dataplane_stats.udp_rx_dropped - dropped, kFlood - queued);
    // Popping frees room: one more datagram is queued after a pop.
    demi_qresult_t r = wait(*os->start_pop(qd));
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    demi_sgarray_t got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 1, 5001, pattern(200, 2)))));
    run_for_ms(10);
    EXPECT_EQ(os->heap().live() - live, queued);
    EXPECT_EQ(mem::g_dataplane_stats.udp_rx_dropped - dropped, kFlood - queued);
    EXPECT_TRUE(os->close(qd).ok());
    EXPECT_EQ(os->heap().live(), live);
}

TEST_F(UdpQueueTest, TwoInterfacesExchangeDatagramsOverTheWire) {
    boot(true);
    nic_a.record = nic_b.record = false;
    const int server = udp_socket(*os, kIpB, 7);
    const int client = udp_socket(*os, kIpA, 0);
    for (uint32_t i = 1; i <= 200; ++i) {
        const Bytes payload = pattern(1 + (i * 37) % 1472, static_cast<uint8_t>(i));
        demi_sgarray_t sga = sga_with(payload);
        const sockaddr_in to = addr(kIpB, 7);
        const demi_qtoken_t pop = *os->start_pop(server);
        wait(*os->start_push(client, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to));
        const demi_qresult_t r = wait(pop);
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP) << i;
        ASSERT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, payload.size());
        ASSERT_EQ(memcmp(r.qr_value.sga.sga_segs[0].sgaseg_buf, payload.data(), payload.size()), 0);
        EXPECT_EQ(r.qr_value.sga.sga_addr.sin_addr.s_addr, kIpA);
        demi_sgarray_t got = r.qr_value.sga;
        EXPECT_TRUE(os->sgafree(&got).ok());
        EXPECT_TRUE(os->sgafree(&sga).ok());
    }
    EXPECT_TRUE(os->close(server).ok());
    EXPECT_TRUE(os->close(client).ok());
}


// The echo an app does (pop, push the same sga back): the payload never
// moves. The popped sga points into the RX buffer the NIC filled, the push
// prepends its headers into that buffer's front and the device reads the
// frame from it as one descriptor. No payload byte is copied.
TEST_F(UdpQueueTest, EchoOfAPoppedDatagramCopiesNoPayload) {
    boot();
    learn_peer();
    const int qd = udp_socket(*os, kIpA, 5555);
    const uint64_t copied = mem::g_dataplane_stats.payload_bytes_copied;
    const uint64_t lent = mem::g_dataplane_stats.rx_lent;
    const uint64_t in_place = mem::g_dataplane_stats.tx_in_place;
    const uint32_t live = os->heap().live();
    int n = 0;
    for (size_t size : {1u, 64u, 100u, 1024u, 1472u}) {
        const Bytes payload = pattern(size, static_cast<uint8_t>(size));
        const demi_qtoken_t pop = *os->start_pop(qd);
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 4000, 5555, payload))));
        const demi_qresult_t r = wait(pop);
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP) << size;
        demi_sgarray_t sga = r.qr_value.sga;
        ASSERT_EQ(sga.sga_segs[0].sgaseg_len, size);
        ASSERT_EQ(memcmp(sga.sga_segs[0].sgaseg_buf, payload.data(), size), 0);
        // In the RX buffer, right after the NIC header and the frame's headers.
        auto rx = os->heap().owner_of(sga.sga_segs[0].sgaseg_buf);
        ASSERT_TRUE(rx.ok());
        EXPECT_EQ(static_cast<uint8_t*>(sga.sga_segs[0].sgaseg_buf) - (*rx)->data(), FakeNic::kHeadroom + 42);
        const sockaddr_in back = sga.sga_addr;
        const demi_qresult_t w =
            wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&back), sizeof back));
        ASSERT_EQ(w.qr_opcode, DEMI_OPC_PUSH);
        EXPECT_EQ(nic_a.last_segments, 1u);
        EXPECT_EQ(nic_a.last_buffers[0], *rx) << "the device reads the RX buffer itself";
        EXPECT_EQ(nic_a.last_offsets[0], FakeNic::kHeadroom);
        Parsed p = next_sent(nic_a);
        EXPECT_TRUE(p.l4_checksum_ok);
        EXPECT_EQ(p.dport, 4000);
        EXPECT_EQ(p.payload, payload);
        EXPECT_TRUE(os->sgafree(&sga).ok());
        ++n;
    }
    EXPECT_EQ(mem::g_dataplane_stats.payload_bytes_copied, copied);
    EXPECT_EQ(mem::g_dataplane_stats.rx_lent - lent, static_cast<uint64_t>(n));
    EXPECT_EQ(mem::g_dataplane_stats.tx_in_place - in_place, static_cast<uint64_t>(n));
    EXPECT_EQ(nic_a.contract_violations, 0u);
    EXPECT_TRUE(os->close(qd).ok());
    EXPECT_EQ(os->heap().live(), live);
    EXPECT_EQ(dma_pbufs_live(), 0u);
}

// A buffer the app pushed twice at once: the second push must not rewrite
// headers the device may still be reading, so it goes behind a header of
// its own; both frames are right.
TEST_F(UdpQueueTest, TwoPushesOfOneBufferDoNotShareItsHeadroom) {
    boot();
    learn_peer();
    const int qd = udp_socket(*os, kIpA, 5556);
    nic_a.hold_tx = true;  // the device keeps both frames in flight
    const Bytes payload = pattern(200, 4);
    demi_sgarray_t sga = sga_with(payload);
    const sockaddr_in to1 = addr(kPeerIp, 7001), to2 = addr(kPeerIp, 7002);
    wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to1), sizeof to1));
    EXPECT_EQ(nic_a.last_segments, 1u);
    wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to2), sizeof to2));
    EXPECT_EQ(nic_a.last_segments, 2u) << "headers of its own";
    nic_a.release_held();
    Parsed a = next_sent(nic_a);
    Parsed b = next_sent(nic_a);
    EXPECT_EQ(a.dport, 7001);
    EXPECT_EQ(b.dport, 7002);
    EXPECT_TRUE(a.l4_checksum_ok && b.l4_checksum_ok);
    EXPECT_EQ(a.payload, payload);
    EXPECT_EQ(b.payload, payload);
    EXPECT_TRUE(os->sgafree(&sga).ok());
    EXPECT_TRUE(os->close(qd).ok());
}

// The RX starvation policy: while the app holds more than 3/4 of the DMA
// heap, received datagrams are copied (and counted) so their RX buffers go
// straight back to the ring; once it lets go, they are lent again.
TEST_F(UdpQueueTest, AnAppHoldingMostOfTheHeapGetsCopiesNotRxBuffers) {
    boot();
    const int qd = udp_socket(*os, kIpA, 5557);
    std::vector<demi_sgarray_t> hoard;
    while (os->heap().bytes_live() * 100 < os->heap().bytes_total() * 80) {
        auto s = os->sgaalloc(60000);
        ASSERT_TRUE(s.ok());
        hoard.push_back(*s);
    }
    const Bytes payload = pattern(500, 7);
    auto exchange = [&] {
        const demi_qtoken_t pop = *os->start_pop(qd);
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 4000, 5557, payload))));
        demi_qresult_t r = wait(pop);
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_POP);
        EXPECT_EQ(memcmp(r.qr_value.sga.sga_segs[0].sgaseg_buf, payload.data(), payload.size()), 0);
        EXPECT_TRUE(os->sgafree(&r.qr_value.sga).ok());
    };
    uint64_t copied = mem::g_dataplane_stats.rx_copied;
    exchange();
    EXPECT_EQ(mem::g_dataplane_stats.rx_copied, copied + 1) << "copied under pressure";
    for (demi_sgarray_t& s : hoard) EXPECT_TRUE(os->sgafree(&s).ok());
    copied = mem::g_dataplane_stats.rx_copied;
    const uint64_t lent = mem::g_dataplane_stats.rx_lent;
    exchange();
    EXPECT_EQ(mem::g_dataplane_stats.rx_copied, copied);
    EXPECT_EQ(mem::g_dataplane_stats.rx_lent, lent + 1);
    EXPECT_TRUE(os->close(qd).ok());
}

// A pop with nothing queued waits on the queue itself (no task), and a
// close completes it as cancelled.
TEST_F(UdpQueueTest, APendingPopNeedsNoTaskAndCloseCancelsIt) {
    boot();
    const int qd = udp_socket(*os, kIpA, 5558);
    const uint32_t tasks = os->executor().live_tasks();
    const demi_qtoken_t pop = *os->start_pop(qd);
    EXPECT_EQ(os->executor().live_tasks(), tasks) << "no task spawned for a waiting pop";
    EXPECT_TRUE(os->close(qd).ok());
    const demi_qresult_t r = wait(pop);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, ECANCELED);
}
}  // namespace
}  // namespace ringlet::net::test
