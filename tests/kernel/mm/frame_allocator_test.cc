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

// alloc_pieces (the loader's segments): the whole run when there is one;
// in pieces when fragmentation leaves none that long; nothing kept on failure.
TEST_F(FrameAllocatorTest, PiecesAreOneRunWhenThereIsOne) {
    init({{0x80000000, 64 * kF}});
    FramePiece pieces[4];
    auto n = m_alloc.alloc_pieces(40, pieces, 4);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(pieces[0].count, 40u);
    EXPECT_EQ(m_alloc.free_frames(), 24u);
}

TEST_F(FrameAllocatorTest, PiecesCoverAFragmentedPool) {
    init({{0x80000000, 64 * kF}});
    // Hold every other run of 8 (next-fit moves on past a run given back):
    // the longest free run is 8 frames, 32 are free.
    std::vector<uint64_t> held;
    for (int i = 0; i < 8; ++i) {
        auto pa = m_alloc.alloc(8);
        ASSERT_TRUE(pa.ok());
        if (i % 2) held.push_back(*pa);
        else ASSERT_TRUE(m_alloc.free(*pa, 8).ok());
    }
    ASSERT_EQ(m_alloc.free_frames(), 32u);
    EXPECT_EQ(m_alloc.alloc(9).error(), Error::OutOfMemory);

    FramePiece pieces[16];
    auto n = m_alloc.alloc_pieces(20, pieces, 16);
    ASSERT_TRUE(n.ok());
    size_t total = 0;
    std::set<uint64_t> frames;
    for (size_t i = 0; i < *n; ++i) {
        EXPECT_LE(pieces[i].count, 8u);
        total += pieces[i].count;
        for (size_t f = 0; f < pieces[i].count; ++f) EXPECT_TRUE(frames.insert(pieces[i].pa + f * kF).second);
        for (uint64_t h : held) EXPECT_FALSE(pieces[i].pa >= h && pieces[i].pa < h + 8 * kF) << "a held frame";
    }
    EXPECT_EQ(total, 20u);
    EXPECT_EQ(m_alloc.free_frames(), 12u);
}

TEST_F(FrameAllocatorTest, PiecesTakeNothingWhenTheyCannotCoverIt) {
    init({{0x80000000, 64 * kF}});
    for (int i = 0; i < 32; ++i) {  // every other frame held: 32 single-frame holes
        auto a = m_alloc.alloc(1);
        auto b = m_alloc.alloc(1);
        ASSERT_TRUE(a.ok() && b.ok());
        ASSERT_TRUE(m_alloc.free(*a).ok());
    }
    ASSERT_EQ(m_alloc.free_frames(), 32u);
    FramePiece pieces[8];
    EXPECT_EQ(m_alloc.alloc_pieces(16, pieces, 8).error(), Error::Full);  // 16 pieces needed
    EXPECT_EQ(m_alloc.free_frames(), 32u);
    EXPECT_EQ(m_alloc.alloc_pieces(33, pieces, 8).error(), Error::OutOfMemory);
    EXPECT_EQ(m_alloc.free_frames(), 32u);
    auto n = m_alloc.alloc_pieces(8, pieces, 8);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 8u);
    EXPECT_EQ(m_alloc.free_frames(), 24u);
}

// The bitmap is scanned and updated a word at a time: runs that start and
// end inside words, span several, and a partly freed run must all behave
// as frame-by-frame logic would.
TEST_F(FrameAllocatorTest, RunsAcrossBitmapWords) {
    init({{0x80000000, 3000 * kF}});
    auto a = m_alloc.alloc(37);    // frames 0..36
    auto b = m_alloc.alloc(1024);  // 37..1060: crosses 17 words
    auto c = m_alloc.alloc(100);   // 1061..1160
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(*b, 0x80000000 + 37 * kF);
    EXPECT_EQ(*c, 0x80000000 + 1061 * kF);
    EXPECT_EQ(m_alloc.free_frames(), 3000u - 1161u);
    EXPECT_EQ(m_alloc.reserve(*b + 500 * kF, kF).error(), Error::Busy);  // inside b
    ASSERT_TRUE(m_alloc.free(*b + 64 * kF, 64).ok());                   // a hole inside b
    EXPECT_EQ(m_alloc.free(*b, 200).error(), Error::InvalidArgument);    // partly free already
    EXPECT_EQ(m_alloc.free_frames(), 3000u - 1161u + 64u);
    ASSERT_TRUE(m_alloc.free(*b, 64).ok());
    ASSERT_TRUE(m_alloc.free(*b + 128 * kF, 1024 - 128).ok());
    EXPECT_EQ(m_alloc.free_frames(), 3000u - 137u);
    // The hint is past c; from the start again, the 1024 freed frames between
    // a and c are the first run that fits exactly.
    auto big = m_alloc.alloc(1839);  // everything after c
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(*big, 0x80000000 + 1161 * kF);
    auto again = m_alloc.alloc(1024);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *b);
    EXPECT_EQ(m_alloc.alloc(1).error(), Error::OutOfMemory);
}

}  // namespace
}  // namespace ringlet
