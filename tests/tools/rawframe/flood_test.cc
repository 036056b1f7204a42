// The floods rawframe sends (tools/rawframe/flood.h): what each frame is,
// byte by byte where it matters, and the guest-ACK parser the out-of-order
// flood learns its sequence numbers with.
#include "tools/rawframe/flood.h"

#include <gtest/gtest.h>

#include <set>

namespace ringlet::rawframe {
namespace {

Target target() {
    Target t;
    t.ep.src_mac = {2, 0, 0, 0, 0, 1};
    t.ep.dst_mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    t.ep.src_ip = 0x0a000202;
    t.ep.dst_ip = 0x0a00020f;
    t.tcp_port = 5555;
    return t;
}

// True if fixing the checksums changes nothing: they were right.
bool checksums_right(const Frame& f) {
    Frame copy = f;
    return fix_checksums(copy) && copy == f;
}

TEST(RawframeFlood, SynFloodComesFromManySourcesThatAreNotTheHost) {
    const Target t = target();
    const auto frames = syn_flood(t, 300, 7);
    ASSERT_EQ(frames.size(), 300u);
    std::set<uint32_t> sources;
    std::set<uint16_t> ports;
    for (const auto& f : frames) {
        const Layout l = parse_layout(f.bytes);
        ASSERT_TRUE(l.valid);
        ASSERT_EQ(l.proto, kProtoTcp);
        EXPECT_TRUE(checksums_right(f.bytes));
        const uint32_t src = get32(f.bytes, l.ip + 12);
        EXPECT_EQ(src >> 8, t.ep.src_ip >> 8);  // the same /24
        EXPECT_GE(src & 0xff, 100u);
        EXPECT_LT(src & 0xff, 200u);
        EXPECT_EQ(get32(f.bytes, l.ip + 16), t.ep.dst_ip);
        EXPECT_EQ(get16(f.bytes, l.l4 + 2), 5555);
        EXPECT_EQ(f.bytes[l.l4 + 13], kSyn);
        sources.insert(src);
        ports.insert(get16(f.bytes, l.l4));
    }
    EXPECT_EQ(sources.size(), 100u);
    EXPECT_EQ(ports.size(), 300u);
    // Seeded: the same seed, the same frames.
    EXPECT_EQ(syn_flood(t, 3, 7)[2].bytes, frames[2].bytes);
}

TEST(RawframeFlood, OutOfOrderSegmentsLeaveAGapAndStayInTheWindow) {
    const Target t = target();
    const GuestSequence at{0x10000000u, 0xfffffff0u};  // rcv_nxt about to wrap
    const auto frames = ooseq_flood(t, 40123, at, 5000);
    ASSERT_EQ(frames.size(), 5000u);
    for (size_t i = 0; i < frames.size(); ++i) {
        const Frame& f = frames[i].bytes;
        const Layout l = parse_layout(f);
        ASSERT_TRUE(l.valid);
        EXPECT_TRUE(checksums_right(f));
        EXPECT_EQ(get16(f, l.l4), 40123);
        EXPECT_EQ(get16(f, l.l4 + 2), 5555);
        const uint32_t past = get32(f, l.l4 + 4) - at.rcv_nxt;  // modulo 2^32
        EXPECT_GE(past, 2u);
        EXPECT_LT(past, 8002u);
        EXPECT_EQ(past % 2, 0u);  // never rcv_nxt + 1: the gap stays
        EXPECT_EQ(get32(f, l.l4 + 8), at.snd_nxt);
        EXPECT_EQ(l.l4_end - l.l4, 21u);  // a 20-byte header and one byte
    }
}

TEST(RawframeFlood, GuestAckIsParsedOnlyFromTheGuestsSideOfTheConnection) {
    const Target t = target();
    // What the guest would send: its endpoints are the target's reversed.
    Endpoints back{t.ep.dst_mac, t.ep.src_mac, t.ep.dst_ip, t.ep.src_ip};
    TcpFields a;
    a.src_port = 5555;
    a.dst_port = 40123;
    a.seq = 111;
    a.ack = 222;
    a.flags = kAck;
    GuestSequence at;
    ASSERT_TRUE(parse_guest_ack(tcp_frame(back, a), t, 40123, &at));
    EXPECT_EQ(at.snd_nxt, 111u);
    EXPECT_EQ(at.rcv_nxt, 222u);
    EXPECT_FALSE(parse_guest_ack(tcp_frame(back, a), t, 40124, &at));        // another connection
    EXPECT_FALSE(parse_guest_ack(sequence_probe(t, 40123), t, 40123, &at));  // our own probe
    a.flags = kSyn;
    EXPECT_FALSE(parse_guest_ack(tcp_frame(back, a), t, 40123, &at));  // no ACK in it
}

}  // namespace
}  // namespace ringlet::rawframe
