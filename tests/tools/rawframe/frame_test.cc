// Checksums and layouts of the frame builders against values computed
// independently (RFC 1071's worked example, a textbook IPv4 header, and UDP /
// TCP checksums worked out by hand from RFC 768/793's pseudo-header).
#include "tools/rawframe/frame.h"

#include <gtest/gtest.h>

namespace ringlet::rawframe {
namespace {

Endpoints test_endpoints() {
    Endpoints ep;
    ep.src_mac = {0x02, 0, 0, 0, 0, 0x02};
    ep.dst_mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    ep.src_ip = 0x0a000202;  // 10.0.2.2
    ep.dst_ip = 0x0a00020f;  // 10.0.2.15
    return ep;
}

// Summing a region together with its correct checksum folds to zero.
bool sums_to_zero(std::span<const uint8_t> b, uint32_t sum = 0) { return fold_checksum(sum16(b, sum)) == 0; }

uint32_t pseudo_header(const Endpoints& ep, uint8_t proto, size_t len) {
    return (ep.src_ip >> 16) + (ep.src_ip & 0xffff) + (ep.dst_ip >> 16) + (ep.dst_ip & 0xffff) + proto +
           static_cast<uint32_t>(len);
}

TcpFields segment(uint16_t src_port, uint16_t dst_port, uint32_t seq, uint8_t flags) {
    TcpFields t;
    t.src_port = src_port;
    t.dst_port = dst_port;
    t.seq = seq;
    t.flags = flags;
    return t;
}

TEST(RawframeChecksum, Rfc1071Example) {
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(sum16(b), 0x2ddf0u);
    EXPECT_EQ(fold_checksum(sum16(b)), 0x220d);
}

TEST(RawframeChecksum, OddLengthPadsWithZero) {
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    const uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
    EXPECT_EQ(sum16(odd), sum16(even));
}

TEST(RawframeChecksum, KnownIpv4Header) {
    // 192.168.0.1 -> 192.168.0.199, UDP, total length 115, DF: checksum 0xb861.
    const uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                         0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(ipv4_checksum(h), 0xb861);
    uint8_t with[sizeof h];
    memcpy(with, h, sizeof h);
    with[10] = 0xb8;
    with[11] = 0x61;
    EXPECT_EQ(ipv4_checksum(with), 0xb861) << "the checksum field itself is not summed";
}

TEST(RawframeFrame, UdpFrameLayoutAndChecksums) {
    const Endpoints ep = test_endpoints();
    const std::vector<uint8_t> payload{'r', 'a', 'w', 'f', 'r', 'a', 'm', 'e'};
    const Frame f = udp_frame(ep, 40000, 5555, payload);
    ASSERT_EQ(f.size(), kEthHeader + kIpv4Header + kUdpHeader + payload.size());
    EXPECT_EQ(std::vector<uint8_t>(f.begin(), f.begin() + 6), std::vector<uint8_t>(ep.dst_mac.begin(), ep.dst_mac.end()));
    EXPECT_EQ(std::vector<uint8_t>(f.begin() + 6, f.begin() + 12), std::vector<uint8_t>(ep.src_mac.begin(), ep.src_mac.end()));
    EXPECT_EQ(get16(f, 12), kEtherIpv4);
    const size_t ip = kEthHeader, u = ip + kIpv4Header;
    EXPECT_EQ(f[ip], 0x45);
    EXPECT_EQ(get16(f, ip + 2), 36);
    EXPECT_EQ(f[ip + 9], kProtoUdp);
    EXPECT_EQ(get32(f, ip + 12), ep.src_ip);
    EXPECT_EQ(get32(f, ip + 16), ep.dst_ip);
    EXPECT_EQ(get16(f, ip + 10), 0x22b8);  // worked out independently
    EXPECT_TRUE(sums_to_zero(std::span(f).subspan(ip, kIpv4Header)));
    EXPECT_EQ(get16(f, u), 40000);
    EXPECT_EQ(get16(f, u + 2), 5555);
    EXPECT_EQ(get16(f, u + 4), 16);
    EXPECT_EQ(get16(f, u + 6), 0x6c3b);  // worked out independently
    EXPECT_TRUE(sums_to_zero(std::span(f).subspan(u), pseudo_header(ep, kProtoUdp, 16)));
}

TEST(RawframeFrame, TcpSynChecksum) {
    const Endpoints ep = test_endpoints();
    const TcpFields t = segment(40001, 5555, 0x1000, kSyn);
    const Frame f = tcp_frame(ep, t);
    const size_t s = kEthHeader + kIpv4Header;
    ASSERT_EQ(f.size(), s + kTcpHeader);
    EXPECT_EQ(f[s + 12], 5 << 4);
    EXPECT_EQ(f[s + 13], kSyn);
    EXPECT_EQ(get32(f, s + 4), 0x1000u);
    EXPECT_EQ(get16(f, s + 14), 8192);
    EXPECT_EQ(get16(f, s + 16), 0xb5dd);  // worked out independently
}

TEST(RawframeFrame, TcpWithOptionsAndDataSumsToZero) {
    const Endpoints ep = test_endpoints();
    TcpFields t = segment(1, 2, 0xfffffff0, kAck | kPsh);
    t.ack = 0x12345678;
    t.options = {2, 4, 0x05, 0xb4};
    t.payload = {1, 2, 3, 4, 5};  // odd length
    const Frame f = tcp_frame(ep, t);
    const size_t s = kEthHeader + kIpv4Header;
    EXPECT_EQ(f[s + 12], 6 << 4);
    EXPECT_TRUE(sums_to_zero(std::span(f).subspan(s), pseudo_header(ep, kProtoTcp, f.size() - s)));
}

TEST(RawframeFrame, UdpZeroChecksumIsSentAsOnes) {
    // Find a payload whose checksum folds to 0: the field must then be 0xffff.
    const Endpoints ep = test_endpoints();
    for (uint32_t v = 0; v < 0x10000; ++v) {
        const std::vector<uint8_t> p{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
        const Frame f = udp_frame(ep, 1, 2, p);
        const uint16_t c = get16(f, kEthHeader + kIpv4Header + 6);
        ASSERT_NE(c, 0);
        if (c == 0xffff) return;
    }
    FAIL() << "no payload gave a zero sum";
}

TEST(RawframeFrame, IcmpAndArp) {
    const Endpoints ep = test_endpoints();
    const std::vector<uint8_t> rest{0, 1, 0, 2, 'x'};
    const Frame f = icmp_frame(ep, 8, 0, rest);
    EXPECT_TRUE(sums_to_zero(std::span(f).subspan(kEthHeader + kIpv4Header)));
    const Frame a = arp_request(ep, ep.dst_ip);
    ASSERT_EQ(a.size(), kEthHeader + 28);
    EXPECT_EQ(get16(a, 12), kEtherArp);
    EXPECT_EQ(get16(a, kEthHeader + 6), 1);
    EXPECT_EQ(get32(a, kEthHeader + 24), ep.dst_ip);
}

TEST(RawframeFrame, FixChecksumsRepairsAfterAnEdit) {
    const Endpoints ep = test_endpoints();
    Frame f = udp_frame(ep, 40000, 5555, std::vector<uint8_t>{1, 2, 3, 4});
    const size_t u = kEthHeader + kIpv4Header;
    f[u + kUdpHeader] = 0x99;  // payload change: UDP checksum now wrong
    f[kEthHeader + 8] = 1;     // TTL change: header checksum now wrong
    EXPECT_FALSE(sums_to_zero(std::span(f).subspan(kEthHeader, kIpv4Header)));
    ASSERT_TRUE(fix_checksums(f));
    EXPECT_TRUE(sums_to_zero(std::span(f).subspan(kEthHeader, kIpv4Header)));
    EXPECT_TRUE(sums_to_zero(std::span(f).subspan(u), pseudo_header(ep, kProtoUdp, f.size() - u)));
}

TEST(RawframeFrame, FixChecksumsLeavesNonIpv4Alone) {
    Frame runt{1, 2, 3};
    EXPECT_FALSE(fix_checksums(runt));
    Frame arp = arp_request(test_endpoints(), 1);
    const Frame before = arp;
    EXPECT_FALSE(fix_checksums(arp));
    EXPECT_EQ(arp, before);
    Frame ihl = udp_frame(test_endpoints(), 1, 2, {});
    ihl[kEthHeader] = 0x4f;  // header longer than the frame
    EXPECT_FALSE(fix_checksums(ihl));
}

}  // namespace
}  // namespace ringlet::rawframe
