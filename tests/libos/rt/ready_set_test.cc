#include "libos/rt/ready_set.h"

#include <gtest/gtest.h>

#include <set>

namespace ringlet::rt {
namespace {

TEST(ReadySet, EmptyHasNothing) {
    ReadySet s;
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.first(), ReadySet::kNone);
    EXPECT_EQ(s.first_from(100), ReadySet::kNone);
    EXPECT_EQ(s.take_first(), ReadySet::kNone);
}

TEST(ReadySet, PicksLowestAcrossWords) {
    ReadySet s;
    s.set(4095);
    s.set(130);
    s.set(64);
    EXPECT_EQ(s.first(), 64);
    EXPECT_EQ(s.take_first(), 64);
    EXPECT_EQ(s.take_first(), 130);
    EXPECT_EQ(s.take_first(), 4095);
    EXPECT_TRUE(s.empty());
}

TEST(ReadySet, ClearKeepsSummaryInStep) {
    ReadySet s;
    s.set(70);
    s.set(71);
    s.clear(70);
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.first(), 71);
    s.clear(71);
    EXPECT_TRUE(s.empty());
    s.clear(71);  // clearing a clear bit is harmless
    EXPECT_TRUE(s.empty());
}

TEST(ReadySet, FirstFromWrapsAround) {
    ReadySet s;
    s.set(5);
    s.set(200);
    EXPECT_EQ(s.first_from(0), 5);
    EXPECT_EQ(s.first_from(5), 5);
    EXPECT_EQ(s.first_from(6), 200);
    EXPECT_EQ(s.first_from(201), 5);    // wraps
    EXPECT_EQ(s.first_from(4095), 5);   // last word, no shift by 64
    EXPECT_EQ(s.first_from(4096), 5);   // cursor past the end wraps to 0
}

TEST(ReadySet, RoundRobinVisitsEverySlotOnce) {
    ReadySet s;
    const std::set<uint32_t> slots = {0, 1, 63, 64, 127, 1000, 4032, 4095};
    for (uint32_t i : slots) s.set(i);
    std::set<uint32_t> seen;
    uint32_t cursor = 65;
    for (size_t k = 0; k < slots.size(); ++k) {
        const int32_t i = s.first_from(cursor);
        ASSERT_NE(i, ReadySet::kNone);
        EXPECT_TRUE(seen.insert(static_cast<uint32_t>(i)).second) << i;
        cursor = static_cast<uint32_t>(i) + 1;
    }
    EXPECT_EQ(seen, slots);
    EXPECT_EQ(s.count(), slots.size());
}

TEST(ReadySet, MatchesReferenceModel) {
    ReadySet s;
    std::set<uint32_t> model;
    uint64_t x = 88172645463325252ull;  // xorshift: deterministic pseudo-random ops
    for (int step = 0; step < 20000; ++step) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const uint32_t slot = static_cast<uint32_t>(x % ReadySet::kCapacity);
        if (x & (1ull << 40)) {
            s.set(slot);
            model.insert(slot);
        } else {
            s.clear(slot);
            model.erase(slot);
        }
        const int32_t want = model.empty() ? ReadySet::kNone : static_cast<int32_t>(*model.begin());
        ASSERT_EQ(s.first(), want);
        const uint32_t from = static_cast<uint32_t>((x >> 20) % ReadySet::kCapacity);
        auto it = model.lower_bound(from);
        if (it == model.end()) it = model.begin();
        const int32_t want_from = model.empty() ? ReadySet::kNone : static_cast<int32_t>(*it);
        ASSERT_EQ(s.first_from(from), want_from);
    }
}

}  // namespace
}  // namespace ringlet::rt
