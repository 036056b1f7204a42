// FlowSteering: the Toeplitz hash against Microsoft's published RSS
// verification values, the frame parser, and the spread of flows over cores.
#include "net/flow_steering.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace ringlet::net {
namespace {

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 | static_cast<uint32_t>(c) << 8 | d;
}

// Microsoft's RSS verification suite, IPv4: the received packet's source,
// destination, and the hash over (src ip, dst ip) and over (src ip, dst ip,
// src port, dst port) under kDefaultRssKey.
struct Vector {
    FlowTuple flow;
    uint32_t ipv4_hash;
    uint32_t tcp_hash;
};
const Vector kVectors[] = {
    {{ip(66, 9, 149, 187), ip(161, 142, 100, 80), 2794, 1766}, 0x323e8fc2, 0x51ccc178},
    {{ip(199, 92, 111, 2), ip(65, 69, 140, 83), 14230, 4739}, 0xd718262a, 0xc626b0ea},
    {{ip(24, 19, 198, 95), ip(12, 22, 207, 184), 12898, 38024}, 0xd2d0a5de, 0x5c2b394a},
    {{ip(38, 27, 205, 30), ip(209, 142, 163, 6), 48228, 2217}, 0x82989176, 0xafc7327f},
    {{ip(153, 39, 163, 191), ip(202, 188, 127, 2), 44251, 1303}, 0x5d1809c5, 0x10e828a2},
};

std::array<uint8_t, 12> tuple_bytes(const FlowTuple& f) {
    return {static_cast<uint8_t>(f.src_ip >> 24), static_cast<uint8_t>(f.src_ip >> 16),
            static_cast<uint8_t>(f.src_ip >> 8),  static_cast<uint8_t>(f.src_ip),
            static_cast<uint8_t>(f.dst_ip >> 24), static_cast<uint8_t>(f.dst_ip >> 16),
            static_cast<uint8_t>(f.dst_ip >> 8),  static_cast<uint8_t>(f.dst_ip),
            static_cast<uint8_t>(f.src_port >> 8), static_cast<uint8_t>(f.src_port),
            static_cast<uint8_t>(f.dst_port >> 8), static_cast<uint8_t>(f.dst_port)};
}

// An Ethernet II + IPv4 (+ options) + TCP/UDP frame carrying `flow`.
std::vector<uint8_t> frame(const FlowTuple& f, uint8_t proto = 17, uint8_t ihl_words = 5,
                           uint16_t frag = 0, uint16_t ethertype = 0x0800) {
    std::vector<uint8_t> b(14 + ihl_words * 4 + 8 + 16, 0);
    b[12] = static_cast<uint8_t>(ethertype >> 8);
    b[13] = static_cast<uint8_t>(ethertype);
    uint8_t* p = b.data() + 14;
    p[0] = static_cast<uint8_t>(0x40 | ihl_words);
    p[6] = static_cast<uint8_t>(frag >> 8);
    p[7] = static_cast<uint8_t>(frag);
    p[8] = 64;
    p[9] = proto;
    auto t = tuple_bytes(f);
    for (int i = 0; i < 8; ++i) p[12 + i] = t[i];
    uint8_t* l4 = p + ihl_words * 4;
    for (int i = 0; i < 4; ++i) l4[i] = t[8 + i];
    return b;
}

std::unique_ptr<FlowSteering> steering(uint16_t cores) {
    auto s = std::make_unique<FlowSteering>();
    EXPECT_TRUE(s->init(cores).ok());
    return s;
}

TEST(FlowSteering, ToeplitzMatchesTheMicrosoftVerificationSuite) {
    auto s = steering(4);
    for (const Vector& v : kVectors) {
        auto t = tuple_bytes(v.flow);
        EXPECT_EQ(toeplitz_hash(kDefaultRssKey, kRssKeyBytes, t.data(), 8), v.ipv4_hash);
        EXPECT_EQ(toeplitz_hash(kDefaultRssKey, kRssKeyBytes, t.data(), 12), v.tcp_hash);
        // The per-byte table gives the same hash as the definition.
        EXPECT_EQ(s->hash(v.flow), v.tcp_hash);
    }
}

TEST(FlowSteering, ToeplitzRefusesAKeyTooShort) {
    uint8_t data[12] = {1, 2, 3};
    EXPECT_EQ(toeplitz_hash(kDefaultRssKey, 15, data, 12), 0u);
    EXPECT_NE(toeplitz_hash(kDefaultRssKey, 16, data, 12), 0u);
    EXPECT_EQ(toeplitz_hash(nullptr, 40, data, 12), 0u);
}

TEST(FlowSteering, InitChecksAndBuildsARoundRobinTable) {
    FlowSteering s;
    EXPECT_EQ(s.cores(), 1);
    EXPECT_EQ(s.init(0).error(), Error::InvalidArgument);
    EXPECT_EQ(s.init(kMaxSteeringCores + 1).error(), Error::InvalidArgument);
    ASSERT_TRUE(s.init(3).ok());
    for (uint32_t i = 0; i < kSteeringTableEntries; ++i) EXPECT_EQ(s.table()[i], i % 3);
    EXPECT_EQ(0, std::memcmp(s.key(), kDefaultRssKey, kRssKeyBytes));
    // Another key changes the hash.
    uint8_t key[kRssKeyBytes];
    for (uint32_t i = 0; i < kRssKeyBytes; ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
    ASSERT_TRUE(s.init(3, key).ok());
    EXPECT_NE(s.hash(kVectors[0].flow), kVectors[0].tcp_hash);
    auto t = tuple_bytes(kVectors[0].flow);
    EXPECT_EQ(s.hash(kVectors[0].flow), toeplitz_hash(key, kRssKeyBytes, t.data(), 12));
}

TEST(FlowSteering, FrameOfAFlowGoesToItsCoreEveryTime) {
    auto s = steering(4);
    for (const Vector& v : kVectors) {
        uint16_t want = s->core_for_hash(v.tcp_hash);
        EXPECT_EQ(want, v.tcp_hash % 128 % 4);
        for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
            auto f = frame(v.flow, proto);
            for (int i = 0; i < 3; ++i) EXPECT_EQ(s->core_for_frame(f.data(), f.size()), want);
            // IPv4 options move the ports; the flow is the same.
            auto g = frame(v.flow, proto, 8);
            EXPECT_EQ(s->core_for_frame(g.data(), g.size()), want);
        }
        // core_for_rx_flow names the receiving side's view.
        EXPECT_EQ(s->core_for_rx_flow(v.flow.dst_ip, v.flow.dst_port, v.flow.src_ip, v.flow.src_port), want);
    }
}

TEST(FlowSteering, ReplyDirectionIsNotSymmetric) {
    // Documented: RSS hashes the received tuple, so a flow and its reverse
    // hash differently (a core opening a connection picks its local port).
    auto s = steering(4);
    int differ = 0;
    for (const Vector& v : kVectors) {
        FlowTuple r{v.flow.dst_ip, v.flow.src_ip, v.flow.dst_port, v.flow.src_port};
        if (s->hash(r) != s->hash(v.flow)) ++differ;
    }
    EXPECT_EQ(differ, 5);
}

TEST(FlowSteering, DestinationPortShareIsLinear) {
    // hash(flow) == hash(flow with dst_port 0) ^ dst_port_hash(dst_port):
    // what LocalPorts relies on to try ports with two loads each.
    auto s = steering(4);
    std::mt19937 rng(99);
    for (int i = 0; i < 2000; ++i) {
        FlowTuple f{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()),
                    static_cast<uint16_t>(rng())};
        FlowTuple zero = f;
        zero.dst_port = 0;
        EXPECT_EQ(s->hash(f), s->hash(zero) ^ s->dst_port_hash(f.dst_port));
    }
    EXPECT_EQ(s->dst_port_hash(0), 0u);
}

void expect_spread(uint16_t cores) {
    auto s = steering(cores);
    std::mt19937 rng(1234 + cores);
    std::vector<uint32_t> count(cores, 0);
    constexpr uint32_t kFlows = 10000;
    for (uint32_t i = 0; i < kFlows; ++i) {
        FlowTuple f{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()),
                    static_cast<uint16_t>(rng())};
        auto b = frame(f, i % 2 ? 6 : 17);
        uint16_t c = s->core_for_frame(b.data(), b.size());
        ASSERT_LT(c, cores);
        ++count[c];
    }
    // Each core within 10 % of its fair share (binomial sigma is ~1 % here).
    for (uint16_t c = 0; c < cores; ++c) {
        EXPECT_GT(count[c], kFlows / cores * 9 / 10) << "core " << c;
        EXPECT_LT(count[c], kFlows / cores * 11 / 10) << "core " << c;
    }
}

TEST(FlowSteering, TenThousandFlowsSpreadOverTwoCores) { expect_spread(2); }
TEST(FlowSteering, TenThousandFlowsSpreadOverFourCores) { expect_spread(4); }

TEST(FlowSteering, ServerPortWithManyClientsSpreads) {
    // The realistic case: one server address and port, clients vary.
    auto s = steering(4);
    std::vector<uint32_t> count(4, 0);
    for (uint32_t i = 0; i < 4000; ++i) {
        FlowTuple f{ip(10, 0, 2, 2), ip(10, 0, 2, 15), static_cast<uint16_t>(32768 + i), 5555};
        ++count[s->core_for_flow(f)];
    }
    for (uint32_t c : count) {
        EXPECT_GT(c, 800u);
        EXPECT_LT(c, 1200u);
    }
}

TEST(FlowSteering, UnhashableFramesGoToCoreZero) {
    auto s = steering(4);
    // A flow that does not hash to core 0, so a wrong answer shows.
    FlowTuple f = kVectors[0].flow;
    for (const Vector& v : kVectors) {
        if (s->core_for_flow(v.flow) != 0) f = v.flow;
    }
    ASSERT_NE(s->core_for_flow(f), 0);
    auto ok = frame(f);
    ASSERT_NE(s->core_for_frame(ok.data(), ok.size()), 0);

    auto arp = frame(f, 17, 5, 0, 0x0806);
    EXPECT_EQ(s->core_for_frame(arp.data(), arp.size()), 0);
    auto ipv6 = frame(f, 17, 5, 0, 0x86dd);
    EXPECT_EQ(s->core_for_frame(ipv6.data(), ipv6.size()), 0);
    auto vlan = frame(f, 17, 5, 0, 0x8100);
    EXPECT_EQ(s->core_for_frame(vlan.data(), vlan.size()), 0);
    auto icmp = frame(f, 1);
    EXPECT_EQ(s->core_for_frame(icmp.data(), icmp.size()), 0);
    auto first_fragment = frame(f, 17, 5, 0x2000);  // MF set, offset 0
    EXPECT_EQ(s->core_for_frame(first_fragment.data(), first_fragment.size()), 0);
    auto later_fragment = frame(f, 17, 5, 0x00b9);  // offset 185 * 8
    EXPECT_EQ(s->core_for_frame(later_fragment.data(), later_fragment.size()), 0);
    auto df = frame(f, 17, 5, 0x4000);  // DF alone is not a fragment
    EXPECT_EQ(s->core_for_frame(df.data(), df.size()), s->core_for_frame(ok.data(), ok.size()));
    auto v6_in_v4 = ok;
    v6_in_v4[14] = 0x65;  // version 6 in an IPv4 EtherType
    EXPECT_EQ(s->core_for_frame(v6_in_v4.data(), v6_in_v4.size()), 0);
    auto short_ihl = ok;
    short_ihl[14] = 0x44;  // IHL 4: shorter than an IPv4 header
    EXPECT_EQ(s->core_for_frame(short_ihl.data(), short_ihl.size()), 0);
}

TEST(FlowSteering, ShortAndMalformedFramesAreSafe) {
    auto s = steering(4);
    FlowTuple f = kVectors[1].flow;
    auto ok = frame(f, 6, 15);  // 60-byte IPv4 header: ports at 74..77
    uint16_t want = s->core_for_flow(f);
    // Every truncation: read nothing past len (ASan checks: a heap copy of
    // exactly len bytes), core 0 until the ports are inside.
    for (size_t len = 0; len <= ok.size(); ++len) {
        std::vector<uint8_t> cut(ok.begin(), ok.begin() + static_cast<long>(len));
        uint16_t c = s->core_for_frame(len ? cut.data() : nullptr, len);
        EXPECT_EQ(c, len >= 14 + 60 + 4 ? want : 0) << "len " << len;
    }
    // Random bytes: any answer below cores, never a crash.
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        std::vector<uint8_t> junk(rng() % 80);
        for (auto& byte : junk) byte = static_cast<uint8_t>(rng());
        if (junk.size() > 14 && i % 2) {
            junk[12] = 0x08;
            junk[13] = 0x00;
        }
        EXPECT_LT(s->core_for_frame(junk.data(), junk.size()), 4);
    }
}

TEST(FlowSteering, OneCoreSendsEverythingToCoreZero) {
    auto s = steering(1);
    auto b = frame(kVectors[2].flow);
    EXPECT_EQ(s->core_for_frame(b.data(), b.size()), 0);
}

}  // namespace
}  // namespace ringlet::net
