// Each named hostile frame breaks the rule its name gives, and only that one
// where the rest can be kept right (checksums repaired after the edit); the
// set and the mutations are deterministic.
#include "tools/rawframe/hostile.h"

#include <gtest/gtest.h>

#include <set>

namespace ringlet::rawframe {
namespace {

constexpr size_t kIp = kEthHeader;
constexpr size_t kL4 = kEthHeader + kIpv4Header;

Target test_target(uint16_t live_port = 41000) {
    Target t;
    t.ep.src_mac = {0x02, 0, 0, 0, 0, 0x02};
    t.ep.dst_mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    t.ep.src_ip = 0x0a000202;
    t.ep.dst_ip = 0x0a00020f;
    t.live_port = live_port;
    return t;
}

class Hostile : public ::testing::Test {
protected:
    const Target t = test_target();
    const std::vector<HostileFrame> frames = named_frames(t);

    const Frame& get(const std::string& name) const {
        for (const auto& f : frames) {
            if (f.name == name) return f.bytes;
        }
        ADD_FAILURE() << "no frame named " << name;
        static const Frame empty(64);
        return empty;
    }
    static bool header_checksum_ok(const Frame& f) {
        const size_t ihl = static_cast<size_t>(f[kIp] & 0x0f) * 4;
        return fold_checksum(sum16(std::span(f).subspan(kIp, ihl))) == 0;
    }
    bool l4_checksum_ok(const Frame& f, uint8_t proto) const {
        const std::span<const uint8_t> seg = std::span(f).subspan(kL4);
        uint32_t sum = (t.ep.src_ip >> 16) + (t.ep.src_ip & 0xffff) + (t.ep.dst_ip >> 16) + (t.ep.dst_ip & 0xffff);
        return fold_checksum(sum16(seg, sum + proto + static_cast<uint32_t>(seg.size()))) == 0;
    }
    static uint8_t tcp_flags(const Frame& f) { return f[kL4 + 13]; }
    static uint16_t frag_offset_bytes(const Frame& f) { return static_cast<uint16_t>((get16(f, kIp + 6) & 0x1fff) * 8); }
    static bool more_fragments(const Frame& f) { return (get16(f, kIp + 6) & 0x2000) != 0; }
};

TEST_F(Hostile, NamesAreUniqueAndTheSetIsDeterministic) {
    std::set<std::string> names;
    for (const auto& f : frames) {
        EXPECT_TRUE(names.insert(f.name).second) << f.name;
        EXPECT_FALSE(f.bytes.empty()) << f.name;
    }
    const auto again = named_frames(t);
    ASSERT_EQ(again.size(), frames.size());
    for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(again[i].bytes, frames[i].bytes) << frames[i].name;
}

TEST_F(Hostile, LiveConnectionSegmentsOnlyWithALivePort) {
    size_t live = 0;
    for (const auto& f : frames) {
        if (f.name.rfind("tcp_live_", 0) != 0) continue;
        ++live;
        EXPECT_EQ(get16(f.bytes, kL4), t.live_port) << f.name;
        EXPECT_EQ(get16(f.bytes, kL4 + 2), t.tcp_port) << f.name;
        EXPECT_TRUE(l4_checksum_ok(f.bytes, kProtoTcp)) << f.name << ": only the sequence number is wrong";
    }
    EXPECT_EQ(live, 5u);
    EXPECT_TRUE(tcp_flags(get("tcp_live_wrong_seq_rst")) & kRst);
    EXPECT_TRUE(tcp_flags(get("tcp_live_wrong_seq_syn")) & kSyn);
    EXPECT_GT(get("tcp_live_wrong_seq_data").size(), kL4 + kTcpHeader);
    for (const auto& f : named_frames(test_target(0))) EXPECT_NE(f.name.rfind("tcp_live_", 0), 0u) << f.name;
}

TEST_F(Hostile, Runts) {
    EXPECT_EQ(get("runt_1_byte").size(), 1u);
    EXPECT_EQ(get("runt_13_bytes").size(), 13u);
    EXPECT_EQ(get("runt_ethernet_header_only").size(), kEthHeader);
    EXPECT_EQ(get("runt_ipv4_header_cut").size(), 30u);
    EXPECT_LT(get("runt_arp_cut").size(), kEthHeader + 28);
    const Frame& udp59 = get("runt_valid_udp_59_bytes");
    EXPECT_EQ(udp59.size(), 59u);
    EXPECT_TRUE(header_checksum_ok(udp59));
    EXPECT_TRUE(l4_checksum_ok(udp59, kProtoUdp));
    const Frame& tcp = get("runt_tcp_header_cut");
    EXPECT_EQ(tcp[kIp + 9], kProtoTcp);
    EXPECT_LT(tcp.size() - kL4, kTcpHeader);
    for (const auto& f : frames) {
        if (f.name.rfind("runt_", 0) == 0) {
            EXPECT_LT(f.bytes.size(), kMinFrame) << f.name;
        }
    }
}

TEST_F(Hostile, Oversized) {
    EXPECT_EQ(get("oversized_1515_bytes").size(), 1515u);
    EXPECT_EQ(get("oversized_9014_bytes").size(), 9014u);
    const Frame& big = get("oversized_65549_bytes");
    EXPECT_EQ(big.size(), 65549u);
    EXPECT_EQ(get16(big, kIp + 2), 65535);
    for (const auto& f : frames) {
        if (f.name.rfind("oversized_", 0) == 0) {
            EXPECT_GT(f.bytes.size(), kMaxFrame) << f.name;
        }
    }
}

TEST_F(Hostile, EtherTypes) {
    EXPECT_EQ(get16(get("ethertype_unknown"), 12), 0x88b5);
    EXPECT_EQ(get16(get("ethertype_ipv6"), 12), 0x86dd);
    EXPECT_EQ(get16(get("ethertype_vlan_tagged"), 12), 0x8100);
    EXPECT_LT(get16(get("ethertype_802_3_length"), 12), 0x0600);
}

TEST_F(Hostile, Ipv4Headers) {
    EXPECT_EQ(get("ipv4_version_6")[kIp] >> 4, 6);
    EXPECT_TRUE(header_checksum_ok(get("ipv4_version_6")));
    EXPECT_EQ(get("ipv4_ihl_4")[kIp] & 0x0f, 4);
    const Frame& ihl15 = get("ipv4_ihl_15_beyond_packet");
    EXPECT_EQ(ihl15[kIp] & 0x0f, 15);
    EXPECT_LT(ihl15.size(), kIp + 60);
    const Frame& longer = get("ipv4_total_length_beyond_frame");
    EXPECT_GT(get16(longer, kIp + 2), longer.size() - kIp);
    EXPECT_TRUE(header_checksum_ok(longer));
    EXPECT_LT(get16(get("ipv4_total_length_below_header"), kIp + 2), kIpv4Header);
    const Frame& cut = get("ipv4_total_length_cuts_udp_header");
    EXPECT_LT(get16(cut, kIp + 2), kIpv4Header + kUdpHeader);
    EXPECT_GT(cut.size() - kIp, get16(cut, kIp + 2)) << "shorter than the frame";
    EXPECT_TRUE(header_checksum_ok(cut));
    EXPECT_FALSE(header_checksum_ok(get("ipv4_bad_header_checksum")));
    const Frame& opts = get("ipv4_options_overrun");
    EXPECT_EQ(opts[kIp] & 0x0f, 6);
    EXPECT_GT(opts[kL4 + 1], 4) << "the option claims more than the 4-byte option area";
    EXPECT_TRUE(header_checksum_ok(opts));
    EXPECT_EQ(get("ipv4_ttl_0")[kIp + 8], 0);
    EXPECT_EQ(get32(get("ipv4_source_broadcast"), kIp + 12), 0xffffffffu);
    EXPECT_NE(get32(get("ipv4_destination_other_host"), kIp + 16), t.ep.dst_ip);
    EXPECT_EQ(get("ipv4_protocol_unknown")[kIp + 9], 253);
    const Frame& land = get("ipv4_land_tcp_syn_from_guest_itself");
    EXPECT_EQ(get32(land, kIp + 12), get32(land, kIp + 16));
    EXPECT_EQ(get16(land, kL4), get16(land, kL4 + 2));
}

TEST_F(Hostile, Fragments) {
    const Frame& first = get("ipv4_fragment_first_only");
    EXPECT_TRUE(more_fragments(first));
    EXPECT_EQ(frag_offset_bytes(first), 0);
    const Frame& last = get("ipv4_fragment_last_only");
    EXPECT_FALSE(more_fragments(last));
    EXPECT_GT(frag_offset_bytes(last), 0);
    const Frame& a = get("ipv4_fragment_overlap_a");
    const Frame& b = get("ipv4_fragment_overlap_b");
    EXPECT_EQ(get16(a, kIp + 4), get16(b, kIp + 4));
    EXPECT_LT(frag_offset_bytes(b), frag_offset_bytes(a) + (get16(a, kIp + 2) - kIpv4Header)) << "they overlap";
    EXPECT_EQ(get("ipv4_fragment_duplicate_a"), get("ipv4_fragment_duplicate_b"));
    const Frame& beyond = get("ipv4_fragment_beyond_64k");
    EXPECT_GT(frag_offset_bytes(beyond) + get16(beyond, kIp + 2) - kIpv4Header, 65535);
    EXPECT_EQ(get16(get("ipv4_fragment_zero_length"), kIp + 2), kIpv4Header);
    EXPECT_EQ(get16(get("ipv4_fragment_tiny_tcp_header_a"), kIp + 2), kIpv4Header + 8);
    std::set<uint16_t> ids;
    for (const auto& f : frames) {
        if (f.name.rfind("ipv4_fragment_flood_", 0) == 0) ids.insert(get16(f.bytes, kIp + 4));
    }
    EXPECT_EQ(ids.size(), 40u);
    for (const auto& f : frames) {
        if (f.name.rfind("ipv4_fragment_", 0) == 0) {
            EXPECT_TRUE(header_checksum_ok(f.bytes)) << f.name;
        }
    }
}

TEST_F(Hostile, Udp) {
    const Frame& beyond = get("udp_length_beyond_packet");
    EXPECT_GT(get16(beyond, kL4 + 4), beyond.size() - kL4);
    EXPECT_LT(get16(get("udp_length_below_header"), kL4 + 4), kUdpHeader);
    EXPECT_EQ(get16(get("udp_length_zero"), kL4 + 4), 0);
    EXPECT_FALSE(l4_checksum_ok(get("udp_bad_checksum"), kProtoUdp));
    EXPECT_TRUE(header_checksum_ok(get("udp_bad_checksum")));
    EXPECT_EQ(get16(get("udp_checksum_absent"), kL4 + 6), 0);
    EXPECT_EQ(get16(get("udp_to_closed_port"), kL4 + 2), kClosedPort);
    EXPECT_EQ(get16(get("udp_to_port_0"), kL4 + 2), 0);
    EXPECT_TRUE(l4_checksum_ok(get("udp_to_closed_port"), kProtoUdp));
}

TEST_F(Hostile, Tcp) {
    EXPECT_EQ(get("tcp_data_offset_below_5")[kL4 + 12] >> 4, 2);
    EXPECT_TRUE(l4_checksum_ok(get("tcp_data_offset_below_5"), kProtoTcp));
    const Frame& off15 = get("tcp_data_offset_beyond_segment");
    EXPECT_GT(static_cast<size_t>(off15[kL4 + 12] >> 4) * 4, off15.size() - kL4);
    EXPECT_FALSE(l4_checksum_ok(get("tcp_bad_checksum"), kProtoTcp));
    EXPECT_EQ(tcp_flags(get("tcp_syn_fin")), kSyn | kFin);
    EXPECT_EQ(tcp_flags(get("tcp_all_flags")), 0x3f);
    EXPECT_EQ(tcp_flags(get("tcp_no_flags")), 0);
    EXPECT_EQ(tcp_flags(get("tcp_rst_no_connection")), kRst);
    EXPECT_EQ(tcp_flags(get("tcp_ack_no_connection")), kAck);
    const Frame& overrun = get("tcp_options_overrun");
    EXPECT_GT(overrun[kL4 + kTcpHeader + 1], (overrun[kL4 + 12] >> 4) * 4 - kTcpHeader);
    EXPECT_EQ(get("tcp_option_length_0")[kL4 + kTcpHeader + 1], 0);
    EXPECT_EQ(get("tcp_option_length_1")[kL4 + kTcpHeader + 1], 1);
    const Frame& mss0 = get("tcp_option_mss_0");
    EXPECT_EQ(mss0[kL4 + kTcpHeader], 2);
    EXPECT_EQ(get16(mss0, kL4 + kTcpHeader + 2), 0);
    EXPECT_EQ(get("tcp_option_mss_cut_at_end")[kL4 + kTcpHeader + 3], 2) << "MSS kind in the last option byte";
    EXPECT_EQ(get16(get("tcp_syn_window_0"), kL4 + 14), 0);
    const Frame& urg = get("tcp_urgent_beyond_data");
    EXPECT_TRUE(tcp_flags(urg) & kUrg);
    EXPECT_GT(get16(urg, kL4 + 18), urg.size() - kL4 - kTcpHeader);
    EXPECT_GT(get("tcp_syn_with_data").size(), kL4 + kTcpHeader);
    EXPECT_EQ(get16(get("tcp_syn_to_closed_port"), kL4 + 2), kClosedPort);
    for (const auto& f : frames) {
        const bool bad = f.name == "tcp_bad_checksum" || f.name == "tcp_data_offset_beyond_segment";
        if (f.name.rfind("tcp_", 0) == 0 && !bad) {
            EXPECT_TRUE(l4_checksum_ok(f.bytes, kProtoTcp)) << f.name;
        }
    }
}

TEST_F(Hostile, IcmpAndArp) {
    EXPECT_NE(fold_checksum(sum16(std::span(get("icmp_bad_checksum")).subspan(kL4))), 0);
    EXPECT_EQ(get("icmp_truncated").size() - kL4, 3u);
    EXPECT_EQ(get("icmp_unreachable_quoting_garbage")[kL4], 3);
    EXPECT_EQ(get("icmp_unknown_type")[kL4], 200);
    EXPECT_EQ(get("icmp_echo_to_broadcast")[0], 0xff);
    EXPECT_EQ(get("arp_bad_hardware_length")[kEthHeader + 4], 16);
    EXPECT_EQ(get("arp_bad_protocol_length")[kEthHeader + 5], 16);
    EXPECT_EQ(get16(get("arp_unknown_opcode"), kEthHeader + 6), 7);
}

TEST(HostileMutations, SeededAndDeterministic) {
    const Target t = test_target();
    const auto a = mutated_frames(t, 7, 500);
    const auto b = mutated_frames(t, 7, 500);
    const auto c = mutated_frames(t, 8, 500);
    ASSERT_EQ(a.size(), 500u);
    size_t differ_from_c = 0, differ_from_base = 0;
    const Frame bases[] = {valid_udp(t), valid_tcp(t)};
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].bytes, b[i].bytes) << a[i].name;
        EXPECT_FALSE(a[i].bytes.empty()) << a[i].name;
        if (a[i].bytes != c[i].bytes) ++differ_from_c;
        if (a[i].bytes != bases[0] && a[i].bytes != bases[1]) ++differ_from_base;
    }
    EXPECT_GT(differ_from_c, 450u);
    EXPECT_GT(differ_from_base, 450u);
}

}  // namespace
}  // namespace ringlet::rawframe
