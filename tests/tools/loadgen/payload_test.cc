#include "tools/loadgen/payload.h"

#include <vector>

#include <gtest/gtest.h>

namespace ringlet::loadgen {
namespace {

std::vector<uint8_t> bytes_of(const Payload& p) {
    std::vector<uint8_t> v(p.size());
    p.fill(v);
    return v;
}

TEST(Payload, HeaderCarriesMagicSizeAndSequence) {
    const auto v = bytes_of(Payload(0x0123456789abcdefull, 300));
    EXPECT_EQ(v[0], 'R');
    EXPECT_EQ(v[1], 'L');
    EXPECT_EQ(v[2], 'G');
    EXPECT_EQ(v[3], '1');
    auto h = peek_header(v);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->seq, 0x0123456789abcdefull);
    EXPECT_EQ(h->size, 300u);
}

TEST(Payload, FillAtAnOffsetMatchesAt) {
    const Payload p(77, 1000);
    std::vector<uint8_t> part(100);
    p.fill(part, 450);
    for (size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i], p.at(450 + i));
}

TEST(Payload, OwnBytesMatchExactly) {
    const Payload p(5, 1500);
    const auto v = bytes_of(p);
    EXPECT_EQ(count_message_mismatches(p, v), 0u);
    // Checked piecewise, as a TCP stream delivers it.
    EXPECT_EQ(p.count_mismatches(std::span<const uint8_t>(v).subspan(0, 7), 0), 0u);
    EXPECT_EQ(p.count_mismatches(std::span<const uint8_t>(v).subspan(7), 7), 0u);
}

TEST(Payload, EachFlippedByteCountsOnce) {
    const Payload p(5, 200);
    for (size_t at : {size_t{0}, size_t{9}, size_t{16}, size_t{199}}) {
        auto v = bytes_of(p);
        v[at] ^= 0x80;
        EXPECT_EQ(count_message_mismatches(p, v), 1u) << at;
    }
    auto v = bytes_of(p);
    v[20] ^= 1;
    v[120] ^= 1;
    EXPECT_EQ(count_message_mismatches(p, v), 2u);
}

TEST(Payload, NeighbouringRequestsDoNotPassForEachOther) {
    // An echo of the previous request (a stale or misrouted reply) must fail
    // in most of its pattern bytes, not just the sequence number.
    const Payload a(1000, 1024), b(1001, 1024);
    const uint64_t bad = count_message_mismatches(b, bytes_of(a));
    EXPECT_GT(bad, 900u);
}

TEST(Payload, ShiftedStreamIsCaught) {
    // One byte lost in a stream shifts everything after it.
    const Payload p(3, 1024);
    auto v = bytes_of(p);
    v.erase(v.begin() + 100);
    EXPECT_GT(p.count_mismatches(v), 800u);
}

TEST(Payload, LengthDifferencesCount) {
    const Payload p(9, 100);
    auto v = bytes_of(p);
    v.resize(90);
    EXPECT_EQ(count_message_mismatches(p, v), 10u);  // 10 missing
    v = bytes_of(p);
    v.resize(130, 0);
    EXPECT_EQ(count_message_mismatches(p, v), 30u);  // 30 extra
}

TEST(Payload, PeekRejectsShortAndForeignMessages) {
    std::vector<uint8_t> v = bytes_of(Payload(1, 64));
    EXPECT_EQ(peek_header(std::span<const uint8_t>(v).first(15)).error(), Error::BadFormat);
    v[0] ^= 1;
    EXPECT_EQ(peek_header(v).error(), Error::BadFormat);
}

}  // namespace
}  // namespace ringlet::loadgen
