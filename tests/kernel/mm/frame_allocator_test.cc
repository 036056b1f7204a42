#include "kernel/mm/frame_allocator.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ringlet {
namespace {

constexpr uint64_t kF = FrameAllocator::kFrameSize;

class FrameAllocatorTest : public ::testing::Test {
protected:
    void init(std::vector<PhysRange> ranges) {
        m_ranges = ranges;
        m_bitmap.assign(FrameAllocator::bitmap_bytes(ranges.data(), ranges.size()) / 8 + 1, ~0ull);
        ASSERT_TRUE(m_alloc.init(m_ranges.data(), m_ranges.size(), m_bitmap.data(), m_bitmap.size() * 8).ok());
    }
    FrameAllocator m_alloc;
    std::vector<PhysRange> m_ranges;
    std::vector<uint64_t> m_bitmap;
};

TEST_F(FrameAllocatorTest, AllocatesEveryFrameOnceThenRunsOut) {
    init({{0x80000000, 100 * kF}, {0x90000000, 30 * kF}});
    EXPECT_EQ(m_alloc.total_frames(), 130u);
    std::set<uint64_t> seen;
    for (int i = 0; i < 130; ++i) {
        auto pa = m_alloc.alloc();
        ASSERT_TRUE(pa.ok()) << i;
        EXPECT_EQ(*pa % kF, 0u);
        bool in_first = *pa >= 0x80000000 && *pa < 0x80000000 + 100 * kF;
        bool in_second = *pa >= 0x90000000 && *pa < 0x90000000 + 30 * kF;
        EXPECT_TRUE(in_first || in_second);
        EXPECT_TRUE(seen.insert(*pa).second) << "frame handed out twice";
    }
    EXPECT_EQ(m_alloc.free_frames(), 0u);
    EXPECT_EQ(m_alloc.alloc().error(), Error::OutOfMemory);
    ASSERT_TRUE(m_alloc.free(0x90000000 + 5 * kF).ok());
    EXPECT_EQ(*m_alloc.alloc(), 0x90000000 + 5 * kF);
}

TEST_F(FrameAllocatorTest, ContiguousAndAligned) {
    init({{0x80001000, 1022 * kF}});
    auto a = m_alloc.alloc(16, 64 * 1024);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a % (64 * 1024), 0u);
    auto b = m_alloc.alloc(512, 2 << 20);  // the only 2 MiB boundary inside leaves less than 2 MiB after it
    EXPECT_EQ(b.error(), Error::OutOfMemory);
    auto c = m_alloc.alloc(3);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(*c + 3 * kF <= *a || *c >= *a + 16 * kF) << "runs overlap";
}

TEST_F(FrameAllocatorTest, FragmentationFindsAHoleBigEnough) {
    init({{0, 64 * kF}});
    std::vector<uint64_t> frames;
    for (int i = 0; i < 64; ++i) frames.push_back(*m_alloc.alloc());
    for (int i = 0; i < 64; i += 2) ASSERT_TRUE(m_alloc.free(frames[i]).ok());  // every other frame
    EXPECT_EQ(m_alloc.alloc(2).error(), Error::OutOfMemory);
    ASSERT_TRUE(m_alloc.free(frames[41]).ok());  // 40, 41, 42 now free together
    auto run = m_alloc.alloc(3);
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(*run, frames[40]);
}

TEST_F(FrameAllocatorTest, DoubleAndForeignFreesAreRefused) {
    init({{0x1000, 8 * kF}});
    uint64_t pa = *m_alloc.alloc(2);
    ASSERT_TRUE(m_alloc.free(pa, 2).ok());
    size_t before = m_alloc.free_frames();
    EXPECT_EQ(m_alloc.free(pa).error(), Error::InvalidArgument);    // double free
    EXPECT_EQ(m_alloc.free(0x100000).error(), Error::NotFound);     // not ours
    EXPECT_EQ(m_alloc.free(pa + 1).error(), Error::InvalidArgument);  // misaligned
    EXPECT_EQ(m_alloc.free(0x1000 + 7 * kF, 2).error(), Error::OutOfRange);  // runs off the end
    EXPECT_EQ(m_alloc.free_frames(), before);
    // A partly allocated run is refused whole.
    uint64_t one = *m_alloc.alloc();
    EXPECT_EQ(m_alloc.free(one, 2).error(), Error::InvalidArgument);
    EXPECT_EQ(m_alloc.free_frames(), before - 1);
}

TEST_F(FrameAllocatorTest, ReserveMarksFramesUsed) {
    init({{0x0, 4 * kF}});
    ASSERT_TRUE(m_alloc.reserve(0x100, 2 * kF).ok());  // touches frames 0..2
    EXPECT_EQ(m_alloc.free_frames(), 1u);
    EXPECT_EQ(*m_alloc.alloc(), 3 * kF);
    EXPECT_EQ(m_alloc.reserve(0, kF).error(), Error::Busy);
}

TEST(FrameAllocatorInitTest, RejectsBadRanges) {
    FrameAllocator alloc;
    uint64_t bitmap[4];
    PhysRange misaligned{0x1001, kF};
    EXPECT_EQ(alloc.init(&misaligned, 1, bitmap, sizeof bitmap).error(), Error::InvalidArgument);
    PhysRange overlap[2] = {{0, 4 * kF}, {2 * kF, 4 * kF}};
    EXPECT_EQ(alloc.init(overlap, 2, bitmap, sizeof bitmap).error(), Error::InvalidArgument);
    PhysRange big{0, 1000 * kF};
    EXPECT_EQ(alloc.init(&big, 1, bitmap, sizeof bitmap).error(), Error::InvalidArgument);  // bitmap too small
}

}  // namespace
}  // namespace ringlet
