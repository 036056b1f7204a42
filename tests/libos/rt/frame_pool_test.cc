#include "libos/rt/frame_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace ringlet::rt {
namespace {

alignas(16) unsigned char g_arena[64 * 1024];

TEST(FramePool, RejectsBadArena) {
    EXPECT_EQ(FramePool::create(nullptr, 4096).error(), Error::InvalidArgument);
    EXPECT_EQ(FramePool::create(g_arena + 1, 4096).error(), Error::InvalidArgument);
    EXPECT_EQ(FramePool::create(g_arena, 8).error(), Error::InvalidArgument);
}

TEST(FramePool, AllocatesAlignedAndReuses) {
    auto pool = FramePool::create(g_arena, sizeof g_arena);
    ASSERT_TRUE(pool.ok());
    void* a = pool->allocate(100);
    void* b = pool->allocate(100);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
    std::memset(a, 0xab, 100);  // usable memory (ASan would flag overflow into b's header)
    EXPECT_EQ(pool->live(), 2u);
    FramePool::release(a);
    EXPECT_EQ(pool->live(), 1u);
    EXPECT_EQ(pool->allocate(90), a);  // same class comes back from the free list
    FramePool::release(b);
    FramePool::release(a);
    EXPECT_EQ(pool->live(), 0u);
}

TEST(FramePool, ExhaustionReturnsNull) {
    alignas(16) static unsigned char small[1024];
    auto pool = FramePool::create(small, sizeof small);
    ASSERT_TRUE(pool.ok());
    int n = 0;
    while (pool->allocate(200) != nullptr) ++n;  // 256-byte class
    EXPECT_EQ(n, 4);
    EXPECT_EQ(pool->allocate(1 << 20), nullptr);  // larger than the largest class
}

TEST(FramePool, InstallSetsCurrent) {
    auto pool = FramePool::create(g_arena, sizeof g_arena);
    ASSERT_TRUE(pool.ok());
    FramePool::install(&*pool);
    EXPECT_EQ(FramePool::current(), &*pool);
    FramePool::install(nullptr);
    EXPECT_EQ(FramePool::current(), nullptr);
}

}  // namespace
}  // namespace ringlet::rt
