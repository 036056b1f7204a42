#include "libos/rt/timer_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ringlet::rt {
namespace {

TEST(TimerHeap, PopsInDeadlineOrder) {
    TimerHeap<16> h;
    Timer t[5];
    const uint64_t d[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; ++i) {
        t[i].deadline_ns = d[i];
        ASSERT_TRUE(h.insert(&t[i]));
    }
    EXPECT_EQ(h.earliest(), 10u);
    EXPECT_EQ(h.pop_due(5), nullptr);  // nothing due yet
    std::vector<uint64_t> got;
    while (Timer* x = h.pop_due(100)) {
        got.push_back(x->deadline_ns);
        EXPECT_FALSE(x->queued());
    }
    EXPECT_EQ(got, (std::vector<uint64_t>{10, 20, 30, 40, 50}));
}

TEST(TimerHeap, RemoveFromMiddleKeepsOrder) {
    TimerHeap<16> h;
    Timer t[8];
    for (int i = 0; i < 8; ++i) {
        t[i].deadline_ns = static_cast<uint64_t>(100 - i * 10);
        ASSERT_TRUE(h.insert(&t[i]));
    }
    h.remove(&t[3]);  // deadline 70
    h.remove(&t[3]);  // twice is harmless
    EXPECT_EQ(h.size(), 7u);
    std::vector<uint64_t> got;
    while (Timer* x = h.pop_due(1000)) got.push_back(x->deadline_ns);
    EXPECT_EQ(got, (std::vector<uint64_t>{30, 40, 50, 60, 80, 90, 100}));
}

TEST(TimerHeap, FullAndDoubleInsertRefused) {
    TimerHeap<2> h;
    Timer a, b, c;
    EXPECT_TRUE(h.insert(&a));
    EXPECT_FALSE(h.insert(&a));
    EXPECT_TRUE(h.insert(&b));
    EXPECT_FALSE(h.insert(&c));
    EXPECT_EQ(h.earliest(), 0u);
}

}  // namespace
}  // namespace ringlet::rt
