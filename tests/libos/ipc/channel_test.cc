#include "libos/ipc/channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace ringlet::ipc {
namespace {

constexpr size_t kBytes = 2 * 4096;

struct CountingNotifier final : PeerNotifier {
    Result<void> notify_peer() override {
        ++count;
        return ok();
    }
    int count = 0;
};

RingMessage message(uint64_t n) {
    RingMessage m{};
    for (auto& w : m.words) w = n;
    return m;
}

struct Pair {
    alignas(4096) unsigned char memory[kBytes] = {};
    CountingNotifier to_b, to_a;  // what each end's sends raise
    ChannelEndpoint a = *ChannelEndpoint::attach(memory, kBytes, 0, to_b);
    ChannelEndpoint b = *ChannelEndpoint::attach(memory, kBytes, 1, to_a);
};

TEST(ChannelEndpoint, MessagesArriveInOrderEachWay) {
    Pair p;
    for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(p.a.send(message(i)).ok());
    ASSERT_TRUE(p.b.send(message(100)).ok());
    for (uint64_t i = 0; i < 10; ++i) {
        auto m = p.b.receive();
        ASSERT_TRUE(m.ok());
        EXPECT_EQ(m->words[7], i);
    }
    EXPECT_EQ(p.b.receive().error(), Error::Empty);
    EXPECT_EQ(p.a.receive()->words[0], 100u);
    EXPECT_EQ(p.a.receive().error(), Error::Empty);
}

TEST(ChannelEndpoint, AFullRingRefusesWithoutLosingAnything) {
    Pair p;
    for (uint64_t i = 0; i < ChannelEndpoint::kSlots; ++i) ASSERT_TRUE(p.a.send(message(i)).ok());
    EXPECT_EQ(p.a.send(message(99)).error(), Error::Full);
    EXPECT_EQ(p.b.receive()->words[0], 0u);
    ASSERT_TRUE(p.a.send(message(99)).ok());
    for (uint64_t i = 1; i < ChannelEndpoint::kSlots; ++i) EXPECT_EQ(p.b.receive()->words[0], i);
    EXPECT_EQ(p.b.receive()->words[0], 99u);
}

TEST(ChannelEndpoint, OnlyASleepingReceiverCostsTheSenderANotification) {
    Pair p;
    ASSERT_TRUE(p.a.send(message(1)).ok());
    EXPECT_EQ(p.to_b.count, 0);  // b is awake: no syscall
    EXPECT_FALSE(p.b.prepare_to_sleep());  // a message is waiting: b stays up
    ASSERT_TRUE(p.b.receive().ok());
    EXPECT_TRUE(p.b.prepare_to_sleep());
    ASSERT_TRUE(p.a.send(message(2)).ok());
    EXPECT_EQ(p.to_b.count, 1);
    ASSERT_TRUE(p.a.send(message(3)).ok());
    EXPECT_EQ(p.to_b.count, 1);  // one wakeup for the batch
    EXPECT_EQ(p.to_a.count, 0);
}

TEST(ChannelEndpoint, AttachRefusesBadLayouts) {
    alignas(4096) static unsigned char memory[kBytes];
    CountingNotifier n;
    EXPECT_EQ(ChannelEndpoint::attach(memory, kBytes, 2, n).error(), Error::InvalidArgument);
    EXPECT_EQ(ChannelEndpoint::attach(memory + 1, kBytes - 64, 0, n).error(), Error::InvalidArgument);
    EXPECT_EQ(ChannelEndpoint::attach(nullptr, kBytes, 0, n).error(), Error::InvalidArgument);
    EXPECT_EQ(ChannelEndpoint::attach(memory, 2 * ChannelEndpoint::kMinHalf - 64, 0, n).error(),
              Error::InvalidArgument);
    EXPECT_TRUE(ChannelEndpoint::attach(memory, 2 * ChannelEndpoint::kMinHalf, 1, n).ok());
}

TEST(ChannelEndpoint, AScribblingPeerIsReportedNotObeyed) {
    Pair p;
    ASSERT_TRUE(p.a.send(message(1)).ok());
    // Corrupt the a→b ring's head, as a hostile end 0 could.
    uint64_t bogus = 1u << 20;
    std::memcpy(p.memory, &bogus, sizeof bogus);
    EXPECT_EQ(p.b.receive().error(), Error::BadFormat);
    EXPECT_FALSE(p.b.prepare_to_sleep());  // awake, to see the error
}

// A receiver that sleeps whenever its ring is empty never misses a message:
// two threads, the receiver blocking on a semaphore the notifier releases.
TEST(ChannelEndpoint, ASleepingReceiverIsNeverLeftWithAnUnseenMessage) {
    struct Wakeup final : PeerNotifier {
        Result<void> notify_peer() override {
            std::lock_guard<std::mutex> lock(mu);
            ++tokens;
            cv.notify_one();
            return ok();
        }
        // Waits for a wakeup; false if none came within a generous time (a
        // lost wakeup, which would otherwise hang the test).
        bool wait() {
            std::unique_lock<std::mutex> lock(mu);
            if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return tokens > 0; })) return false;
            --tokens;
            return true;
        }
        std::mutex mu;
        std::condition_variable cv;
        int tokens = 0;
    };
    alignas(4096) static unsigned char memory[kBytes];
    std::memset(memory, 0, sizeof memory);
    Wakeup wake_b;
    CountingNotifier unused;
    auto a = *ChannelEndpoint::attach(memory, kBytes, 0, wake_b);
    auto b = *ChannelEndpoint::attach(memory, kBytes, 1, unused);
    constexpr uint64_t kMessages = 200000;
    std::thread sender([&] {
        for (uint64_t i = 0; i < kMessages;) {
            if (a.send(message(i)).ok()) ++i;
            else std::this_thread::yield();
        }
    });
    uint64_t expected = 0;
    bool lost = false;
    while (expected < kMessages && !lost) {
        auto m = b.receive();
        if (m.ok()) {
            ASSERT_EQ(m->words[3], expected);
            ++expected;
            continue;
        }
        ASSERT_EQ(m.error(), Error::Empty);
        if (b.prepare_to_sleep()) {
            lost = !wake_b.wait();
            b.awake();
        }
    }
    sender.join();
    EXPECT_FALSE(lost) << "receiver slept through a message at " << expected;
    EXPECT_EQ(expected, kMessages);
}

}  // namespace
}  // namespace ringlet::ipc
