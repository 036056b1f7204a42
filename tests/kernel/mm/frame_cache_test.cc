// FrameCache (kernel/mm/frame_cache.h): a hart's single frames in front of
// the shared FrameAllocator — refills and spills in batches, refuses double
// and foreign frees, and gives everything back when drained.
#include "kernel/mm/frame_cache.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ringlet {
namespace {

constexpr uint64_t kF = FrameAllocator::kFrameSize;
constexpr uint64_t kBase = 0x80000000;

class FrameCacheTest : public ::testing::Test {
protected:
    void init(size_t frames) {
        m_range = {kBase, frames * kF};
        m_bitmap.assign(frames / 64 + 2, ~0ull);
        ASSERT_TRUE(m_pool.init(&m_range, 1, m_bitmap.data(), m_bitmap.size() * 8).ok());
    }
    FrameAllocator m_pool;
    PhysRange m_range{};
    std::vector<uint64_t> m_bitmap;
    FrameCache m_cache;
};

TEST_F(FrameCacheTest, RefillsABatchAndHandsEachFrameOnce) {
    init(100);
    std::set<uint64_t> seen;
    auto first = m_cache.alloc(m_pool);
    ASSERT_TRUE(first.ok());
    seen.insert(*first);
    EXPECT_EQ(m_cache.cached(), FrameCache::kBatch - 1);
    EXPECT_EQ(m_pool.free_frames(), 100 - FrameCache::kBatch);  // cached frames are the hart's
    for (int i = 1; i < 100; ++i) {
        auto pa = m_cache.alloc(m_pool);
        ASSERT_TRUE(pa.ok()) << i;
        EXPECT_TRUE(seen.insert(*pa).second) << "frame handed out twice";
        EXPECT_TRUE(m_pool.is_allocated(*pa));
    }
    EXPECT_EQ(m_cache.alloc(m_pool).error(), Error::OutOfMemory);
}

TEST_F(FrameCacheTest, SpillsWhenFullAndDrainsEverything) {
    init(200);
    std::vector<uint64_t> frames;
    for (int i = 0; i < 100; ++i) frames.push_back(*m_pool.alloc());  // handed out elsewhere
    for (size_t i = 0; i < FrameCache::kCapacity; ++i) ASSERT_TRUE(m_cache.free(m_pool, frames[i]).ok());
    EXPECT_EQ(m_cache.cached(), FrameCache::kCapacity);
    EXPECT_EQ(m_pool.free_frames(), 100u);
    ASSERT_TRUE(m_cache.free(m_pool, frames[FrameCache::kCapacity]).ok());  // full: a batch goes back
    EXPECT_EQ(m_cache.cached(), FrameCache::kCapacity - FrameCache::kBatch + 1);
    EXPECT_EQ(m_pool.free_frames(), 100 + FrameCache::kBatch);
    EXPECT_FALSE(m_pool.is_allocated(frames[0]));  // the oldest went back
    // The warm one comes out first.
    EXPECT_EQ(*m_cache.alloc(m_pool), frames[FrameCache::kCapacity]);
    m_cache.drain(m_pool);
    EXPECT_EQ(m_cache.cached(), 0u);
    EXPECT_EQ(m_pool.free_frames(), 200u - 100u + FrameCache::kCapacity);
}

TEST_F(FrameCacheTest, RefusesDoubleAndForeignFrees) {
    init(64);
    uint64_t pa = *m_pool.alloc();
    ASSERT_TRUE(m_cache.free(m_pool, pa).ok());
    EXPECT_EQ(m_cache.free(m_pool, pa).error(), Error::InvalidArgument);       // cached already
    EXPECT_EQ(m_cache.free(m_pool, kBase + 5 * kF).error(), Error::InvalidArgument);  // never handed out
    EXPECT_EQ(m_cache.free(m_pool, 0x10000000).error(), Error::InvalidArgument);      // not the pool's
    EXPECT_EQ(m_cache.cached(), 1u);
    m_cache.drain(m_pool);
    EXPECT_EQ(m_pool.free_frames(), 64u);
    EXPECT_EQ(m_cache.free(m_pool, pa).error(), Error::InvalidArgument);  // back in the pool: a double free
}

}  // namespace
}  // namespace ringlet
