// The size-class arena behind the store on Ringlet.
#include "user/kv/arena.h"

#include <gtest/gtest.h>

#include <vector>

namespace kv {
namespace {

TEST(KvArena, BlocksAreAlignedDistinctAndReused) {
    alignas(16) static unsigned char region[1 << 20];
    Arena a(region, sizeof region);
    void* p = a.alloc(10);
    void* q = a.alloc(10);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(q, nullptr);
    EXPECT_NE(p, q);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    EXPECT_GE(a.usable(p), 10u);
    const size_t used = a.bytes_in_use();
    a.free(p);
    EXPECT_LT(a.bytes_in_use(), used);
    EXPECT_EQ(a.alloc(12), p);  // same class: the freed block comes back
}

TEST(KvArena, ExhaustionIsNullNotACrash) {
    alignas(16) static unsigned char region[64 * 1024];
    Arena a(region, sizeof region);
    std::vector<void*> got;
    while (void* p = a.alloc(1000)) got.push_back(p);
    EXPECT_EQ(got.size(), 64u);  // 1 KiB blocks
    EXPECT_EQ(a.alloc(size_t{1} << 30), nullptr);
    for (void* p : got) a.free(p);
    EXPECT_EQ(a.bytes_in_use(), 0u);
}

}  // namespace
}  // namespace kv
