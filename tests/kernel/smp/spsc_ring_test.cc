// Unit tests for the SPSC ring (include/ringlet/spsc_ring.h): single-threaded
// behaviour, wrap-around, and refusal of impossible shared indices.
#include "ringlet/spsc_ring.h"

#include <gtest/gtest.h>

#include <memory>

namespace ringlet {
namespace {

RingMessage make_message(uint64_t seq) {
    RingMessage m;
    for (int i = 0; i < 8; ++i) m.words[i] = seq * 8 + static_cast<uint64_t>(i);
    return m;
}

void expect_message(const RingMessage& m, uint64_t seq) {
    for (int i = 0; i < 8; ++i) EXPECT_EQ(m.words[i], seq * 8 + static_cast<uint64_t>(i)) << "word " << i;
}

TEST(SpscRing, LayoutIsFixed) {
    using Ring = SpscRing<32>;
    EXPECT_EQ(sizeof(Ring), 128u + 32u * 64u);
    EXPECT_EQ(offsetof(Ring, head), 0u);
    EXPECT_EQ(offsetof(Ring, tail), 64u);
    EXPECT_EQ(offsetof(Ring, slots), 128u);
    EXPECT_LE(sizeof(Ring), 4096u);
}

TEST(SpscRing, NewRingIsEmpty) {
    SpscRing<4> ring;
    SpscConsumer<4> consumer(ring);
    auto r = consumer.try_pop();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::Empty);
    auto has = consumer.has_message();
    ASSERT_TRUE(has.ok());
    EXPECT_FALSE(*has);
}

TEST(SpscRing, FillsToCapacityThenFull) {
    SpscRing<4> ring;
    SpscProducer<4> producer(ring);
    for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(producer.try_push(make_message(i)).ok()) << i;
    auto r = producer.try_push(make_message(4));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::Full);
    EXPECT_EQ(producer.pushed(), 4u);
    EXPECT_EQ(ring.head.load(), 4u);
}

TEST(SpscRing, PopsInOrderAndFreesSlots) {
    SpscRing<4> ring;
    SpscProducer<4> producer(ring);
    SpscConsumer<4> consumer(ring);
    for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(producer.try_push(make_message(i)).ok());
    auto first = consumer.try_pop();
    ASSERT_TRUE(first.ok());
    expect_message(*first, 0);
    EXPECT_EQ(ring.tail.load(), 1u);
    // The freed slot is usable again.
    ASSERT_TRUE(producer.try_push(make_message(4)).ok());
    EXPECT_EQ(producer.try_push(make_message(5)).error(), Error::Full);
    for (uint64_t i = 1; i <= 4; ++i) {
        auto m = consumer.try_pop();
        ASSERT_TRUE(m.ok()) << i;
        expect_message(*m, i);
    }
    EXPECT_EQ(consumer.try_pop().error(), Error::Empty);
}

TEST(SpscRing, WrapsManyTimes) {
    SpscRing<2> ring;
    SpscProducer<2> producer(ring);
    SpscConsumer<2> consumer(ring);
    uint64_t next_pop = 0;
    for (uint64_t i = 0; i < 1000; ++i) {
        ASSERT_TRUE(producer.try_push(make_message(i)).ok());
        if (i % 2 == 1) {
            for (int k = 0; k < 2; ++k) {
                auto m = consumer.try_pop();
                ASSERT_TRUE(m.ok());
                expect_message(*m, next_pop++);
            }
        }
    }
    EXPECT_EQ(next_pop, 1000u);
    EXPECT_EQ(consumer.popped(), 1000u);
}

TEST(SpscRing, EndpointsResumeOnARingInUse) {
    SpscRing<8> ring;
    {
        SpscProducer<8> producer(ring);
        for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(producer.try_push(make_message(i)).ok());
        SpscConsumer<8> consumer(ring);
        ASSERT_TRUE(consumer.try_pop().ok());
        ASSERT_TRUE(consumer.try_pop().ok());
    }
    SpscProducer<8> producer(ring);
    SpscConsumer<8> consumer(ring);
    EXPECT_EQ(producer.pushed(), 5u);
    EXPECT_EQ(consumer.popped(), 2u);
    // 3 in flight, so exactly 5 more fit.
    for (uint64_t i = 5; i < 10; ++i) ASSERT_TRUE(producer.try_push(make_message(i)).ok()) << i;
    EXPECT_EQ(producer.try_push(make_message(10)).error(), Error::Full);
    for (uint64_t i = 2; i < 10; ++i) {
        auto m = consumer.try_pop();
        ASSERT_TRUE(m.ok());
        expect_message(*m, i);
    }
}

TEST(SpscRing, ConsumerRefusesHeadBeyondCapacity) {
    SpscRing<4> ring;
    SpscConsumer<4> consumer(ring);
    ring.head.store(5);  // a hostile producer claims 5 messages in a 4-slot ring
    EXPECT_EQ(consumer.try_pop().error(), Error::BadFormat);
    EXPECT_EQ(consumer.has_message().error(), Error::BadFormat);
    EXPECT_EQ(ring.tail.load(), 0u);  // nothing consumed
}

TEST(SpscRing, ConsumerRefusesHeadBehindTail) {
    SpscRing<4> ring;
    SpscProducer<4> producer(ring);
    SpscConsumer<4> consumer(ring);
    ASSERT_TRUE(producer.try_push(make_message(0)).ok());
    ASSERT_TRUE(consumer.try_pop().ok());
    ring.head.store(0);  // moved backwards
    EXPECT_EQ(consumer.try_pop().error(), Error::BadFormat);
}

TEST(SpscRing, ProducerRefusesTailAheadOfHead) {
    SpscRing<4> ring;
    SpscProducer<4> producer(ring);
    ring.tail.store(3);  // a hostile consumer claims to have taken unsent messages
    EXPECT_EQ(producer.try_push(make_message(0)).error(), Error::BadFormat);
    EXPECT_EQ(ring.head.load(), 0u);
}

TEST(SpscRing, ProducerRefusesTailTooFarBehind) {
    SpscRing<4> ring;
    SpscProducer<4> producer(ring);
    for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(producer.try_push(make_message(i)).ok());
    ring.head.store(100);  // a peer scribbled on head; our cursor stays authoritative
    EXPECT_EQ(producer.try_push(make_message(4)).error(), Error::Full);
    EXPECT_EQ(producer.pushed(), 4u);
}

TEST(SpscRing, WorksInZeroedSharedMemory) {
    // A zero-filled page is an empty ring: what a freshly mapped frame is.
    auto page = std::make_unique<uint8_t[]>(8192);
    __builtin_memset(page.get(), 0xff, 8192);
    void* aligned = page.get() + (64 - reinterpret_cast<uintptr_t>(page.get()) % 64) % 64;
    __builtin_memset(aligned, 0, sizeof(SpscRing<32>));
    auto* ring = static_cast<SpscRing<32>*>(aligned);
    SpscProducer<32> producer(*ring);
    SpscConsumer<32> consumer(*ring);
    EXPECT_EQ(consumer.try_pop().error(), Error::Empty);
    for (uint64_t i = 0; i < 32; ++i) ASSERT_TRUE(producer.try_push(make_message(i)).ok());
    EXPECT_EQ(producer.try_push(make_message(32)).error(), Error::Full);
    for (uint64_t i = 0; i < 32; ++i) {
        auto m = consumer.try_pop();
        ASSERT_TRUE(m.ok());
        expect_message(*m, i);
    }
}

}  // namespace
}  // namespace ringlet
