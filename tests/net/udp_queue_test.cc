// net/udp_queue: PDPIX UDP over lwIP, driven through a real LibOs.
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
    const demi_qtoken_t qt = *os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    const demi_qresult_t r = wait(qt);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_PUSH);
    ASSERT_EQ(nic_a.sent.size(), 1u);
    // Header copy + the app's buffer by reference.
    EXPECT_EQ(nic_a.last_segments, 2u);
    EXPECT_EQ(nic_a.last_buffers[1]->data(), sga.sga_segs[0].sgaseg_buf);
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

}  // namespace
}  // namespace ringlet::net::test
