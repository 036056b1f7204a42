// net/netif: ARP, ICMP echo, the TX segment contract, config parsing, and
// malformed frames dropped, counted and harmless.
#include <random>

#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

using NetifTest = NetTest;

TEST_F(NetifTest, AnswersArpRequestForItsAddress) {
    boot();
    nic_a.inject(ethernet(kBroadcast, kPeerMac, kEthArp, arp(1, kPeerMac, kPeerIp, MacAddress{}, kIpA)));
    Parsed p = next_sent(nic_a);
    EXPECT_EQ(p.type, kEthArp);
    EXPECT_TRUE(same_mac(p.dst, kPeerMac));
    EXPECT_TRUE(same_mac(p.src, kMacA));
    EXPECT_EQ(p.arp_op, 2);
    EXPECT_TRUE(same_mac(p.arp_sha, kMacA));
    EXPECT_EQ(p.arp_spa, kIpA);
    EXPECT_TRUE(same_mac(p.arp_tha, kPeerMac));
    EXPECT_EQ(p.arp_tpa, kPeerIp);
    EXPECT_EQ(nic_a.contract_violations, 0u);
}

TEST_F(NetifTest, IgnoresArpRequestForAnotherAddress) {
    boot();
    nic_a.inject(ethernet(kBroadcast, kPeerMac, kEthArp, arp(1, kPeerMac, kPeerIp, MacAddress{}, ipv4(10, 0, 2, 99))));
    run_for_ms(100);
    EXPECT_TRUE(nic_a.sent.empty());
}

TEST_F(NetifTest, AnswersPingWithTheSamePayload) {
    boot();
    learn_peer();
    Bytes payload(56);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7 + 3);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 0x1234, 7, payload))));
    Parsed p = next_sent(nic_a);
    ASSERT_TRUE(p.ip);
    EXPECT_TRUE(p.ip_checksum_ok);
    EXPECT_TRUE(same_mac(p.dst, kPeerMac));
    EXPECT_EQ(p.ip_src, kIpA);
    EXPECT_EQ(p.ip_dst, kPeerIp);
    EXPECT_EQ(p.proto, kProtoIcmp);
    EXPECT_EQ(p.icmp_type, 0);
    EXPECT_EQ(p.icmp_id, 0x1234);
    EXPECT_EQ(p.icmp_seq, 7);
    EXPECT_TRUE(p.l4_checksum_ok);
    EXPECT_EQ(p.payload, payload);
}

TEST_F(NetifTest, ResolvesTheNextHopBeforeSending) {
    boot();
    // A ping from an unknown host: lwIP asks for its MAC first, then replies.
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 1, 1, Bytes{1, 2, 3}))));
    Parsed q = next_sent(nic_a);
    ASSERT_EQ(q.type, kEthArp);
    EXPECT_EQ(q.arp_op, 1);
    EXPECT_TRUE(same_mac(q.dst, kBroadcast));
    EXPECT_EQ(q.arp_tpa, kPeerIp);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthArp, arp(2, kPeerMac, kPeerIp, kMacA, kIpA)));
    Parsed p = next_sent(nic_a);
    EXPECT_EQ(p.icmp_type, 0);
    EXPECT_TRUE(same_mac(p.dst, kPeerMac));
}

TEST_F(NetifTest, FramesCarryTheNicHeadroomAndEveryReferenceIsDropped) {
    boot();
    const uint32_t live = os->heap().live();
    learn_peer();
    for (int i = 0; i < 100; ++i) {
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 1, static_cast<uint16_t>(i), Bytes(100, 1)))));
    }
    ASSERT_TRUE(run_until([&] { return nic_a.sent.size() == 100; }));
    run_for_ms(10);
    EXPECT_EQ(nic_a.contract_violations, 0u);
    EXPECT_EQ(os->heap().live(), live);  // RX frames and TX heads all returned
    EXPECT_EQ(dma_pbufs_live(), 0u);
    EXPECT_EQ(backend->interface(0)->stats().rx_frames, 101u);
}

TEST_F(NetifTest, RefusedTransmissionIsCountedNotLeaked) {
    boot();
    learn_peer();
    const uint32_t live = os->heap().live();
    nic_a.fail_tx = true;
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 1, 1, Bytes(10, 1)))));
    run_for_ms(10);
    EXPECT_EQ(backend->interface(0)->stats().tx_dropped, 1u);
    EXPECT_EQ(os->heap().live(), live);
}

TEST(NetConfigTest, ParsesAddressesAndBootArguments) {
    EXPECT_EQ(parse_ipv4("10.0.2.15", 9).value_or(0), ipv4(10, 0, 2, 15));
    EXPECT_EQ(parse_ipv4("255.255.255.255", 15).value_or(0), ipv4(255, 255, 255, 255));
    for (const char* bad : {"", "10.0.2", "10.0.2.15.1", "10.0.2.256", "10..2.15", "a.b.c.d", "10.0.2.15 ", "1000.0.0.1"}) {
        EXPECT_EQ(parse_ipv4(bad, static_cast<uint32_t>(strlen(bad))).error(), Error::BadFormat) << bad;
    }
    NetConfig c;
    ASSERT_TRUE(parse_net_config("console=ttyS0 ip=192.168.1.7/16 gw=192.168.0.1 app=echo", &c).ok());
    EXPECT_EQ(c.address, ipv4(192, 168, 1, 7));
    EXPECT_EQ(c.netmask, ipv4(255, 255, 0, 0));
    EXPECT_EQ(c.gateway, ipv4(192, 168, 0, 1));
    NetConfig d;
    ASSERT_TRUE(parse_net_config("app=echo", &d).ok());  // QEMU user-networking defaults stay
    EXPECT_EQ(d.address, ipv4(10, 0, 2, 15));
    EXPECT_EQ(d.netmask, ipv4(255, 255, 255, 0));
    EXPECT_EQ(d.gateway, ipv4(10, 0, 2, 2));
    EXPECT_EQ(parse_net_config("ip=10.0.2.15/33", &d).error(), Error::BadFormat);
    EXPECT_EQ(parse_net_config("ip=10.0.2/24", &d).error(), Error::BadFormat);
    EXPECT_EQ(parse_net_config("gw=x", &d).error(), Error::BadFormat);
    EXPECT_EQ(d.address, ipv4(10, 0, 2, 15));  // unchanged on error
}

// ---- malformed input ----

Bytes ip_frame(const Bytes& ip) { return ethernet(kMacA, kPeerMac, kEthIpv4, ip); }

TEST_F(NetifTest, MalformedFramesAreDroppedCountedAndHarmless) {
    boot();
    learn_peer();
    const uint32_t live = os->heap().live();
    const DropStats before = stack_drop_stats();
    const NetifStats nbefore = backend->interface(0)->stats();

    Bytes udp_ok = ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 1, 9, Bytes(20, 5)));
    // Runt frames: shorter than an Ethernet header.
    nic_a.inject(Bytes{1, 2, 3, 4, 5});
    nic_a.inject(Bytes(13, 0xff));
    // Truncated IPv4 header.
    nic_a.inject(ip_frame(Bytes{0x45, 0, 0}));
    // Bad IP header checksum.
    Bytes bad_sum = udp_ok;
    bad_sum[10] ^= 0x55;
    nic_a.inject(ip_frame(bad_sum));
    // Total length beyond the frame.
    Bytes too_long = udp_ok;
    too_long[2] = 0x05;  // 1280+ bytes claimed
    too_long[10] = too_long[11] = 0;
    {
        const uint16_t c = inet_checksum(too_long.data(), 20);
        too_long[10] = static_cast<uint8_t>(c >> 8);
        too_long[11] = static_cast<uint8_t>(c);
    }
    nic_a.inject(ip_frame(too_long));
    // IHL below 5.
    Bytes short_ihl = udp_ok;
    short_ihl[0] = 0x44;
    nic_a.inject(ip_frame(short_ihl));
    // Wrong version.
    Bytes v6 = udp_ok;
    v6[0] = 0x65;
    nic_a.inject(ip_frame(v6));
    // UDP length field larger than the datagram.
    Bytes udp_len = udp_ok;
    udp_len[20 + 5] = 200;
    nic_a.inject(ip_frame(udp_len));
    // UDP checksum wrong.
    Bytes udp_sum = udp_ok;
    udp_sum[20 + 7] ^= 0x0f;
    nic_a.inject(ip_frame(udp_sum));
    // TCP header truncated, TCP checksum wrong.
    nic_a.inject(ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoTcp, Bytes(10, 0))));
    Bytes tcp = tcp_segment(kPeerIp, kIpA, 1000, 80, 1, 0, kSyn, 1000, {});
    tcp[17] ^= 1;
    nic_a.inject(ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoTcp, tcp)));
    // ARP truncated; unknown EtherType; ICMP with a bad checksum.
    nic_a.inject(ethernet(kBroadcast, kPeerMac, kEthArp, Bytes(10, 1)));
    nic_a.inject(ethernet(kMacA, kPeerMac, 0x88b5, Bytes(50, 1)));
    Bytes icmp = icmp_echo(8, 1, 1, Bytes(8, 1));
    icmp[2] ^= 1;
    nic_a.inject(ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp)));
    run_for_ms(100);

    const DropStats after = stack_drop_stats();
    EXPECT_EQ(backend->interface(0)->stats().rx_dropped - nbefore.rx_dropped, 2u);  // the runts
    EXPECT_GE(after.ip_chkerr - before.ip_chkerr, 1u);
    EXPECT_GE(after.ip_lenerr - before.ip_lenerr, 1u);
    EXPECT_GE(after.ip_drop - before.ip_drop, 5u);
    EXPECT_GE(after.udp_drop - before.udp_drop, 2u);
    EXPECT_GE(after.udp_chkerr - before.udp_chkerr, 1u);
    EXPECT_GE(after.tcp_drop - before.tcp_drop, 2u);
    EXPECT_GE(after.tcp_chkerr - before.tcp_chkerr, 1u);
    EXPECT_GE(after.arp_drop + after.link_drop - before.arp_drop - before.link_drop, 2u);
    EXPECT_GE(after.icmp_chkerr - before.icmp_chkerr, 1u);
    // Nothing was answered (no RST for the bad-checksum SYN, no ICMP).
    EXPECT_TRUE(nic_a.sent.empty());
    EXPECT_EQ(os->heap().live(), live);
    EXPECT_EQ(dma_pbufs_live(), 0u);

    // Still healthy: a ping is answered.
    nic_a.inject(ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 9, 9, Bytes{9}))));
    EXPECT_EQ(next_sent(nic_a).icmp_type, 0);
}

TEST_F(NetifTest, RandomGarbageAndMutatedFramesDoNoHarm) {
    boot();
    learn_peer();
    const uint32_t live = os->heap().live();
    std::mt19937 rng(12345);
    const Bytes seeds[] = {
        ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 1, 9, Bytes(30, 5)))),
        ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoTcp, tcp_segment(kPeerIp, kIpA, 1000, 80, 1, 0, kSyn, 1000, {}))),
        ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 1, 1, Bytes(20, 1)))),
        ethernet(kBroadcast, kPeerMac, kEthArp, arp(1, kPeerMac, kPeerIp, MacAddress{}, kIpA)),
    };
    for (int i = 0; i < 4000; ++i) {
        Bytes f;
        if (i % 4 == 0) {  // pure garbage of any length
            f.resize(rng() % 1600);
            for (auto& b : f) b = static_cast<uint8_t>(rng());
        } else {  // a valid frame with a few bytes flipped and maybe cut
            f = seeds[rng() % 4];
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < flips; ++k) f[14 + rng() % (f.size() - 14)] ^= static_cast<uint8_t>(1 + rng() % 255);
            if (rng() % 3 == 0) f.resize(rng() % f.size());
        }
        nic_a.inject(f);
        if (i % 64 == 0) run_for_ms(1);
    }
    run_for_ms(20000);  // every timer (ARP, reassembly) runs out
    nic_a.sent.clear();
    EXPECT_EQ(os->heap().live(), live);
    EXPECT_EQ(dma_pbufs_live(), 0u);
    EXPECT_EQ(nic_a.contract_violations, 0u);
    learn_peer();  // the ARP entry may have been overwritten by garbage
    nic_a.inject(ip_frame(ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 9, 9, Bytes{9}))));
    EXPECT_EQ(next_sent(nic_a).icmp_type, 0);
}

}  // namespace
}  // namespace ringlet::net::test
