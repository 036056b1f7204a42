// Two-thread stress test of SpscPtrRing: a producer hands a million buffers
// (pointers into an array, each filled in before the push) to a consumer;
// every one must arrive exactly once, in order, with the bytes the producer
// wrote. Built twice: with the host sanitizers and, from tsan/, with
// ThreadSanitizer, which checks the acquire/release protocol itself (the
// buffer contents are plain, non-atomic data published by the ring).
#include "libos/rt/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#ifdef RINGLET_TSAN_BUILD
#define RINGLET_STRESS_SUITE SpscPtrRingStressTsan
#else
#define RINGLET_STRESS_SUITE SpscPtrRingStress
#endif

namespace ringlet::rt {
namespace {

// TSan runs ~10x slower: fewer buffers still cross the ring many times over.
#ifdef RINGLET_TSAN_BUILD
constexpr uint64_t kCount = 200000;
#else
constexpr uint64_t kCount = 1000000;
#endif

struct Buffer {
    uint64_t seq;
    uint64_t check;
};

template <uint32_t kSlots>
void run_stress(uint64_t count, bool drop_when_full) {
    auto ring = std::make_unique<SpscPtrRing<Buffer, kSlots>>();
    std::vector<Buffer> buffers(count);
    uint64_t drops = 0;  // the producer's own counter
    std::atomic<bool> done{false};

    std::thread producer([&] {
        for (uint64_t i = 0; i < count; ++i) {
            buffers[i].seq = i;
            buffers[i].check = i * 0x9e3779b97f4a7c15ull;
            if (drop_when_full) {
                (void)push_or_drop(*ring, &buffers[i], &drops);
            } else {
                while (!ring->try_push(&buffers[i])) std::this_thread::yield();
            }
        }
        done.store(true, std::memory_order_release);
    });

    uint64_t received = 0, bad = 0, last = 0;
    bool first = true;
    for (;;) {
        Buffer* b = ring->try_pop();
        if (b == nullptr) {
            if (!done.load(std::memory_order_acquire)) {
                std::this_thread::yield();
                continue;
            }
            // The producer finished: whatever it pushed is visible now.
            b = ring->try_pop();
            if (b == nullptr) break;
        }
        // Order: strictly increasing (drops leave gaps, never reorder).
        if (b->check != b->seq * 0x9e3779b97f4a7c15ull) ++bad;
        if (!first && b->seq <= last) ++bad;
        if (!drop_when_full && b->seq != received) ++bad;
        last = b->seq;
        first = false;
        ++received;
    }
    producer.join();
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(received + drops, count);
    if (!drop_when_full) {
        EXPECT_EQ(drops, 0u);
    }
}

TEST(RINGLET_STRESS_SUITE, BuffersArriveInOrderSmallRing) { run_stress<4>(kCount, false); }
TEST(RINGLET_STRESS_SUITE, BuffersArriveInOrderLargeRing) { run_stress<256>(kCount, false); }
// Short: the TSan mutant runs only this one (every racy access it reports
// slows it down a lot).
TEST(RINGLET_STRESS_SUITE, ShortRunSmallRing) { run_stress<4>(20000, false); }
TEST(RINGLET_STRESS_SUITE, FullRingDropsAndCountsNeverReorders) { run_stress<8>(kCount, true); }

}  // namespace
}  // namespace ringlet::rt
