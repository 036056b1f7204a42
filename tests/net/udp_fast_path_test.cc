// The UDP fast path's parser and header writer, against the test-side packet
// crafter and parser (tests/net/packet.h): what it accepts is exactly a plain
// unicast IPv4/UDP datagram with right checksums; everything else is left to
// lwIP. And the fast path in use: an echo goes NIC -> queue -> NIC with lwIP
// seeing neither frame.
#include "net/udp_fast_path.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "tests/net/net_fixture.h"
#include "tests/net/packet.h"

namespace ringlet::net::test {
namespace {

constexpr MacAddress kUs{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
constexpr MacAddress kThem{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const uint32_t kUsIp = ipv4(10, 0, 2, 15);
const uint32_t kThemIp = ipv4(10, 0, 2, 2);

Bytes payload_of(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 1);
    return b;
}

Bytes datagram(size_t n, uint32_t dst = kUsIp) {
    return ethernet(kUs, kThem, kEthIpv4, ipv4_packet(kThemIp, dst, kProtoUdp, udp_segment(kThemIp, dst, 4000, 5555, payload_of(n))));
}

bool accepts(const Bytes& f, UdpFrame* out = nullptr, bool verified = false) {
    UdpFrame tmp;
    return parse_udp_frame(f.data(), static_cast<uint32_t>(f.size()), verified, out != nullptr ? out : &tmp);
}

// Recomputes the IPv4 header checksum after an edit.
void fix_ip_checksum(Bytes& f) {
    f[24] = f[25] = 0;
    uint32_t s = 0;
    for (int i = 14; i < 34; i += 2) s += static_cast<uint32_t>(f[i] << 8 | f[i + 1]);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    const uint16_t c = static_cast<uint16_t>(~s);
    f[24] = static_cast<uint8_t>(c >> 8);
    f[25] = static_cast<uint8_t>(c);
}

// Headers of a reply from us (port 5555) to them (port 4000).
UdpHeaderSpec reply_spec(bool software_checksum, uint16_t ip_id) {
    UdpHeaderSpec s{};
    s.src_mac = kUs;
    s.dst_mac = kThem.bytes;
    s.src_ip = kUsIp;
    s.dst_ip = kThemIp;
    s.src_port = htons(5555);
    s.dst_port = htons(4000);
    s.ip_id = ip_id;
    s.ttl = 64;
    s.software_checksum = software_checksum;
    return s;
}

TEST(UdpFastPath, AcceptsAPlainDatagramAndFindsItsParts) {
    for (size_t n : {0u, 1u, 18u, 64u, 1472u}) {
        const Bytes f = datagram(n);
        UdpFrame u;
        ASSERT_TRUE(accepts(f, &u)) << n;
        EXPECT_EQ(u.src_ip, kThemIp);
        EXPECT_EQ(u.dst_ip, kUsIp);
        EXPECT_EQ(u.src_port, htons(4000));
        EXPECT_EQ(u.dst_port, htons(5555));
        EXPECT_EQ(u.payload_off, 42u);
        EXPECT_EQ(u.payload_len, n);
    }
}

TEST(UdpFastPath, EthernetPaddingIsNotPayload) {
    Bytes f = datagram(4);  // a 46-byte frame, padded to the 60-byte minimum
    f.resize(60, 0);
    UdpFrame u;
    ASSERT_TRUE(accepts(f, &u));
    EXPECT_EQ(u.payload_len, 4u);
}

TEST(UdpFastPath, LeavesEverythingElseToLwip) {
    const Bytes good = datagram(100);
    for (uint32_t n = 0; n < 42; ++n) EXPECT_FALSE(accepts(Bytes(good.begin(), good.begin() + n))) << "runt " << n;
    Bytes f = good;
    f[12] = 0x86;  // not IPv4
    EXPECT_FALSE(accepts(f));
    f = good;
    f[14] = 0x46;  // IP options
    fix_ip_checksum(f);
    EXPECT_FALSE(accepts(f));
    f = good;
    f[20] = 0x20;  // more fragments
    fix_ip_checksum(f);
    EXPECT_FALSE(accepts(f));
    f = good;
    f[21] = 0x10;  // a fragment offset
    fix_ip_checksum(f);
    EXPECT_FALSE(accepts(f));
    f = good;
    f[22] ^= 1;  // TTL changed, header checksum not
    EXPECT_FALSE(accepts(f));
    f = good;
    f[23] = 6;  // TCP
    fix_ip_checksum(f);
    EXPECT_FALSE(accepts(f));
    f = good;
    f[17] = static_cast<uint8_t>(f[17] + 1);  // IP total length beyond the frame
    fix_ip_checksum(f);
    EXPECT_FALSE(accepts(f));
    f = good;
    f[39] = static_cast<uint8_t>(f[39] - 1);  // UDP length disagrees with IP's
    EXPECT_FALSE(accepts(f));
    f = good;
    f[60] ^= 0xff;  // payload changed: UDP checksum wrong
    EXPECT_FALSE(accepts(f));
    EXPECT_TRUE(accepts(f, nullptr, true)) << "unless the NIC verified it";
    f[40] = f[41] = 0;  // no checksum at all is valid over IPv4
    EXPECT_TRUE(accepts(f));
    EXPECT_FALSE(accepts(datagram(10, ipv4(224, 0, 0, 1)))) << "multicast";
    EXPECT_FALSE(accepts(datagram(10, 0xffffffffu))) << "broadcast";
}

TEST(UdpFastPath, WrittenHeadersParseBackWithRightChecksums) {
    for (bool software : {true, false}) {
        const Bytes p = payload_of(333);
        Bytes f(kUdpHeaders + p.size());
        std::copy(p.begin(), p.end(), f.begin() + kUdpHeaders);
        write_udp_headers(f.data(), static_cast<uint32_t>(p.size()), reply_spec(software, 77));
        const Parsed got = parse(f);
        ASSERT_TRUE(got.ip);
        EXPECT_TRUE(same_mac(got.dst, kThem));
        EXPECT_TRUE(same_mac(got.src, kUs));
        EXPECT_TRUE(got.ip_checksum_ok);
        EXPECT_EQ(got.ttl, 64);
        EXPECT_EQ(got.ip_src, kUsIp);
        EXPECT_EQ(got.ip_dst, kThemIp);
        EXPECT_EQ(got.sport, 5555);
        EXPECT_EQ(got.dport, 4000);
        EXPECT_EQ(got.payload, p);
        if (software) {
            EXPECT_TRUE(got.l4_checksum_ok);
            UdpFrame u;
            EXPECT_TRUE(accepts(f, &u));
        } else {
            EXPECT_FALSE(got.l4_checksum_ok) << "left for the NIC: the pseudo-header sum only";
        }
    }
}

// The fast path reads and writes the headers as native 16-bit words, through
// a local copy when the frame is not 2-aligned: every alignment must give
// the same answers and the same bytes (odd and even payload sizes).
TEST(UdpFastPath, AnyAlignmentParsesAndWritesTheSame) {
    for (size_t n : {0u, 1u, 63u, 64u, 333u}) {
        const Bytes f = datagram(n);
        UdpFrame want;
        ASSERT_TRUE(accepts(f, &want));
        Bytes ref;
        for (uint32_t shift = 0; shift < 8; ++shift) {
            Bytes space(f.size() + 8);
            std::copy(f.begin(), f.end(), space.begin() + shift);
            UdpFrame u;
            ASSERT_TRUE(parse_udp_frame(space.data() + shift, static_cast<uint32_t>(f.size()), false, &u)) << n << " at " << shift;
            EXPECT_EQ(u.src_ip, want.src_ip);
            EXPECT_EQ(u.dst_ip, want.dst_ip);
            EXPECT_EQ(u.src_port, want.src_port);
            EXPECT_EQ(u.dst_port, want.dst_port);
            EXPECT_EQ(u.payload_len, want.payload_len);
            space[shift + 40] ^= 0x40;  // the UDP checksum is now wrong
            EXPECT_FALSE(parse_udp_frame(space.data() + shift, static_cast<uint32_t>(f.size()), false, &u)) << n;

            for (bool software : {true, false}) {
                const Bytes p = payload_of(n);
                Bytes out(kUdpHeaders + p.size() + 8, 0xee);
                std::copy(p.begin(), p.end(), out.begin() + shift + kUdpHeaders);
                write_udp_headers(out.data() + shift, static_cast<uint32_t>(p.size()), reply_spec(software, 0x1234));
                const Bytes frame(out.begin() + shift, out.begin() + shift + kUdpHeaders + p.size());
                EXPECT_EQ(out[shift + frame.size()], 0xee) << "nothing written past the frame";
                if (shift > 0) {
                    EXPECT_EQ(out[shift - 1], 0xee) << "nothing written before it";
                }
                const Parsed got = parse(frame);
                ASSERT_TRUE(got.ip);
                EXPECT_TRUE(got.ip_checksum_ok);
                EXPECT_EQ(got.payload, p);
                if (software) {
                    EXPECT_TRUE(got.l4_checksum_ok) << n << " at " << shift;
                } else {
                    // The field holds the folded pseudo-header sum (RFC 768).
                    uint32_t want_sum = 0;
                    for (int i = 26; i < 34; i += 2) want_sum += static_cast<uint32_t>(frame[i] << 8 | frame[i + 1]);
                    want_sum += 17 + static_cast<uint32_t>(8 + n);
                    while (want_sum >> 16) want_sum = (want_sum & 0xffff) + (want_sum >> 16);
                    EXPECT_EQ(static_cast<uint32_t>(frame[40] << 8 | frame[41]), want_sum);
                }
                if (software && shift == 0) ref = frame;
                if (software && shift > 0) {
                    EXPECT_EQ(frame, ref) << n << " at " << shift;
                }
            }
        }
    }
}

// A flow's template writes exactly what write_udp_headers() writes, for any
// length, id, checksum mode and 2-aligned start; an odd start is refused.
TEST(UdpFastPath, TemplateWritesTheSameBytes) {
    for (bool software : {true, false}) {
        UdpHeaderTemplate t;
        make_udp_template(reply_spec(software, 0), &t);
        for (size_t n : {0u, 1u, 2u, 63u, 64u, 333u, 1024u, 1472u}) {
            for (uint16_t id : {uint16_t{0}, uint16_t{1}, uint16_t{0x1234}, uint16_t{0xffff}}) {
                const Bytes p = payload_of(n);
                for (uint32_t shift : {0u, 2u, 4u, 6u}) {
                    Bytes want(kUdpHeaders + p.size() + 16, 0xee), got(want);
                    std::copy(p.begin(), p.end(), want.begin() + shift + kUdpHeaders);
                    std::copy(p.begin(), p.end(), got.begin() + shift + kUdpHeaders);
                    write_udp_headers(want.data() + shift, static_cast<uint32_t>(n), reply_spec(software, id));
                    ASSERT_TRUE(write_udp_headers(got.data() + shift, static_cast<uint32_t>(n), id, t));
                    EXPECT_EQ(got, want) << n << " bytes, id " << id << ", at " << shift << ", software " << software;
                }
            }
        }
        Bytes odd(kUdpHeaders + 8, 0xee);
        const Bytes before = odd;
        EXPECT_FALSE(write_udp_headers(odd.data() + 1, 4, 7, t));
        EXPECT_EQ(odd, before);
    }
}

class UdpFastPathStack : public NetTest {};

TEST_F(UdpFastPathStack, AnEchoNeverEntersLwip) {
    boot();
    learn_peer();
    auto qd = os->socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_TRUE(qd.ok());
    sockaddr_in at = addr(kIpA, 5555);
    ASSERT_TRUE(os->bind(*qd, reinterpret_cast<sockaddr*>(&at), sizeof at).ok());
    const NetifStats before = backend->interface(0)->stats();
    for (int i = 0; i < 10; ++i) {
        const demi_qtoken_t pop = *os->start_pop(*qd);
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                              ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 4000, 5555, payload_of(64)))));
        demi_qresult_t r = wait(pop);
        ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
        demi_sgarray_t sga = r.qr_value.sga;
        const sockaddr_in back = sga.sga_addr;
        ASSERT_EQ(wait(*os->start_push(*qd, &sga, reinterpret_cast<const sockaddr*>(&back), sizeof back)).qr_opcode,
                  DEMI_OPC_PUSH);
        Parsed p = next_sent(nic_a);
        EXPECT_TRUE(p.l4_checksum_ok);
        EXPECT_EQ(p.payload, payload_of(64));
        EXPECT_TRUE(os->sgafree(&sga).ok());
    }
    const NetifStats& after = backend->interface(0)->stats();
    EXPECT_EQ(after.rx_fast - before.rx_fast, 10u);
    EXPECT_EQ(after.tx_fast - before.tx_fast, 10u);
    EXPECT_TRUE(os->close(*qd).ok());
    // Port closed: the next datagram goes to lwIP, which answers ICMP port unreachable.
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 4000, 5555, payload_of(8)))));
    Parsed icmp = next_sent(nic_a);
    EXPECT_EQ(icmp.proto, 1);
    EXPECT_EQ(icmp.icmp_type, 3);
}

}  // namespace
}  // namespace ringlet::net::test
