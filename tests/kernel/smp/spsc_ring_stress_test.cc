// Two-thread stress test of the SPSC ring: millions of sequence-numbered
// messages cross the ring; every one must arrive exactly once, in order and
// untorn. Built twice: with the host sanitizers (ASan/UBSan) and, from tsan/,
// with ThreadSanitizer, which checks the acquire/release protocol itself.
#include "ringlet/spsc_ring.h"

#include <gtest/gtest.h>

#include <thread>

// ctest needs distinct names for the two builds of this file.
#ifdef RINGLET_TSAN_BUILD
#define RINGLET_STRESS_SUITE SpscRingStressTsan
#else
#define RINGLET_STRESS_SUITE SpscRingStress
#endif

namespace ringlet {
namespace {

// Every word depends on the sequence number, so a slot read while being
// written (a missing barrier) shows up as a mismatch, not just as a race.
RingMessage make_message(uint64_t seq) {
    RingMessage m;
    for (uint64_t i = 0; i < 8; ++i) m.words[i] = seq ^ (i * 0x9e3779b97f4a7c15ull);
    return m;
}

template <uint32_t kSlots>
void run_stress(uint64_t count) {
    auto* ring = new SpscRing<kSlots>();
    uint64_t received = 0;
    uint64_t bad = 0;
    uint64_t first_bad = ~0ull;

    std::thread consumer_thread([&] {
        SpscConsumer<kSlots> consumer(*ring);
        while (received < count) {
            auto m = consumer.try_pop();
            if (!m.ok()) {
                if (m.error() != Error::Empty) { ++bad; break; }
                std::this_thread::yield();
                continue;
            }
            RingMessage want = make_message(received);
            if (__builtin_memcmp(&*m, &want, sizeof want) != 0) {
                if (first_bad == ~0ull) first_bad = received;
                ++bad;
            }
            ++received;
        }
    });

    SpscProducer<kSlots> producer(*ring);
    uint64_t full_seen = 0;
    for (uint64_t seq = 0; seq < count;) {
        Result<void> r = producer.try_push(make_message(seq));
        if (r.ok()) {
            ++seq;
        } else {
            ASSERT_EQ(r.error(), Error::Full);
            ++full_seen;
            std::this_thread::yield();
        }
    }
    consumer_thread.join();

    EXPECT_EQ(received, count);
    EXPECT_EQ(bad, 0u) << "first bad sequence number " << first_bad;
    EXPECT_EQ(ring->head.load(), count);
    EXPECT_EQ(ring->tail.load(), count);
    // Nothing extra was left behind.
    SpscConsumer<kSlots> consumer(*ring);
    EXPECT_EQ(consumer.try_pop().error(), Error::Empty);
    delete ring;
}

// A tiny ring: the producer is constantly full and the consumer constantly
// empty, so both refresh paths race on every message.
TEST(RINGLET_STRESS_SUITE, TwoSlotRingTwoMillionMessages) { run_stress<2>(2'000'000); }

TEST(RINGLET_STRESS_SUITE, SixtyFourSlotRingFourMillionMessages) { run_stress<64>(4'000'000); }

}  // namespace
}  // namespace ringlet
