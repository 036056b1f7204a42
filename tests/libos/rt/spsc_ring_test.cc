// SpscPtrRing (libos/rt/spsc_ring.h), one thread: FIFO order, full and
// empty, wrap-around of the slot index and of the 32-bit counters' use,
// the drop counter, and the cache-line layout.
#include "libos/rt/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace ringlet::rt {
namespace {

struct Frame {
    uint64_t seq;
};

TEST(SpscPtrRing, FifoFullAndEmpty) {
    SpscPtrRing<Frame, 4> ring;
    Frame f[5] = {{0}, {1}, {2}, {3}, {4}};
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.try_pop(), nullptr);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(&f[i]));
    EXPECT_EQ(ring.size(), 4u);
    EXPECT_FALSE(ring.try_push(&f[4]));  // full: the caller keeps the frame
    EXPECT_EQ(ring.try_pop(), &f[0]);
    EXPECT_TRUE(ring.try_push(&f[4]));   // one slot freed
    for (int i = 1; i < 5; ++i) EXPECT_EQ(ring.try_pop(), &f[i]);
    EXPECT_EQ(ring.try_pop(), nullptr);
    EXPECT_TRUE(ring.empty());
}

TEST(SpscPtrRing, NullIsNotAFrame) {
    SpscPtrRing<Frame, 2> ring;
    EXPECT_FALSE(ring.try_push(nullptr));
    EXPECT_TRUE(ring.empty());
}

TEST(SpscPtrRing, WrapsManyTimes) {
    SpscPtrRing<Frame, 8> ring;
    std::vector<Frame> frames(100000);
    uint64_t next_in = 0, next_out = 0;
    // Uneven batches so head and tail cross slot boundaries in every phase.
    for (uint32_t round = 0; next_out < frames.size(); ++round) {
        for (uint32_t k = 0; k < round % 7 + 1 && next_in < frames.size(); ++k) {
            frames[next_in].seq = next_in;
            if (!ring.try_push(&frames[next_in])) break;
            ++next_in;
        }
        for (uint32_t k = 0; k < round % 5 + 1; ++k) {
            Frame* p = ring.try_pop();
            if (p == nullptr) break;
            ASSERT_EQ(p, &frames[next_out]);
            ASSERT_EQ(p->seq, next_out);
            ++next_out;
        }
    }
    EXPECT_TRUE(ring.empty());
}

TEST(SpscPtrRing, PushOrDropCountsWhatAFullRingRefuses) {
    SpscPtrRing<Frame, 2> ring;
    Frame f[5] = {};
    uint64_t drops = 0;
    EXPECT_TRUE(push_or_drop(ring, &f[0], &drops));
    EXPECT_TRUE(push_or_drop(ring, &f[1], &drops));
    EXPECT_FALSE(push_or_drop(ring, &f[2], &drops));
    EXPECT_FALSE(push_or_drop(ring, &f[3], &drops));
    EXPECT_EQ(drops, 2u);
    EXPECT_EQ(ring.try_pop(), &f[0]);
    EXPECT_TRUE(push_or_drop(ring, &f[4], &drops));
    EXPECT_EQ(drops, 2u);
}

TEST(SpscPtrRing, IndicesAndSlotsOnSeparateCacheLines) {
    using Ring = SpscPtrRing<Frame, 16>;
    EXPECT_EQ(alignof(Ring), 64u);
    EXPECT_EQ(sizeof(Ring), 64u + 64u + 16u * sizeof(void*));
    Ring ring;
    // The producer's and the consumer's lines never share 64 bytes.
    auto base = reinterpret_cast<uintptr_t>(&ring);
    EXPECT_EQ(base % 64, 0u);
}

}  // namespace
}  // namespace ringlet::rt
