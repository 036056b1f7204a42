// Virtqueue against the fake device: chains, publication, completions,
// wrap-around, notification and interrupt suppression, reclaim, and a
// device that lies in every way the used ring allows.
#include "drivers/virtio/virtqueue.h"

#include <gtest/gtest.h>

#include <string.h>

#include <algorithm>
#include <vector>

#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::virtio {
namespace {

using test::DeviceChain;
using test::DmaArena;
using test::FakeDevice;

struct QueueFixture {
    DmaArena arena{1 << 17};
    FakeDevice dev;
    MmioTransport transport;
    Virtqueue vq;
    DmaSpan data;  // buffers for the chains

    QueueFixture(uint16_t size, bool event_idx)
        : dev(&arena, kDeviceNet, feature::kVersion1 | feature::kEventIdx, 1, 0) {
        transport = *MmioTransport::create(dev.window());
        uint64_t f = *transport.negotiate(event_idx ? feature::kEventIdx : 0, 0);
        DmaSpan ring = arena.alloc(Virtqueue::ring_bytes(size), 4096);
        VirtqueueConfig cfg{ring, size, (f & feature::kEventIdx) != 0, transport.doorbell(0)};
        auto q = Virtqueue::create(cfg);
        EXPECT_TRUE(q.ok());
        vq = *q;
        EXPECT_TRUE(transport.enable_queue(0, size, vq.desc_pa(), vq.avail_pa(), vq.used_pa()).ok());
        EXPECT_TRUE(transport.driver_ok().ok());
        data = arena.alloc(64 * 1024, 64);
    }
    ~QueueFixture() {
        for (const auto& e : dev.errors) ADD_FAILURE() << "device saw: " << e;
    }
    Segment seg(uint32_t off, uint32_t len) const { return Segment{data.pa + off, len}; }

    // One readable + one writable segment, published.
    uint16_t add_one(uint64_t cookie, uint32_t wlen = 64) {
        Segment r = seg(0, 16), w = seg(1024, wlen);
        auto h = vq.add(&r, 1, &w, 1, cookie);
        EXPECT_TRUE(h.ok());
        EXPECT_TRUE(vq.kick().ok());
        return h.ok() ? *h : 0xffff;
    }
};

struct VirtioQueueTest : ::testing::Test {
    QueueFixture f{8, false};
};

TEST(VirtioQueueCreate, RejectsBadConfigs) {
    DmaArena arena(1 << 16);
    FakeDevice dev(&arena, kDeviceNet, feature::kVersion1, 1, 0);
    Doorbell bell{dev.window(), reg::kQueueNotify, 0};
    DmaSpan ring = arena.alloc(Virtqueue::ring_bytes(256), 4096);
    auto make = [&](DmaSpan r, uint16_t size, Doorbell d) {
        return Virtqueue::create(VirtqueueConfig{r, size, false, d}).error();
    };
    EXPECT_EQ(make(ring, 0, bell), Error::InvalidArgument);
    EXPECT_EQ(make(ring, 3, bell), Error::InvalidArgument);
    EXPECT_EQ(make(ring, 512, bell), Error::InvalidArgument);
    EXPECT_EQ(make(ring, 256, Doorbell{}), Error::InvalidArgument);
    DmaSpan shifted = ring;
    shifted.va += 8;
    EXPECT_EQ(make(shifted, 16, bell), Error::InvalidArgument);
    shifted = ring;
    shifted.pa += 4;
    EXPECT_EQ(make(shifted, 16, bell), Error::InvalidArgument);
    DmaSpan small = ring;
    small.len = Virtqueue::ring_bytes(256) - 1;
    EXPECT_EQ(make(small, 256, bell), Error::InvalidArgument);
    EXPECT_TRUE(Virtqueue::create(VirtqueueConfig{ring, 256, false, bell}).ok());
    // Layout of section 2.7: 16*N + (6 + 2*N, rounded to 4) + 6 + 8*N.
    EXPECT_EQ(Virtqueue::ring_bytes(256), 4096u + 520u + 2054u);
}

TEST_F(VirtioQueueTest, ChainReachesDeviceAndCompletes) {
    memset(f.data.va, 0xab, 16);
    Segment r[2] = {f.seg(0, 10), f.seg(10, 6)};
    Segment w[1] = {f.seg(1024, 100)};
    auto h = f.vq.add(r, 2, w, 1, 0xc00c1e);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(f.vq.free_descriptors(), 5);
    // Not visible before the kick.
    DeviceChain c;
    EXPECT_FALSE(f.dev.next_chain(0, c));
    auto k = f.vq.kick();
    ASSERT_TRUE(k.ok());
    EXPECT_TRUE(*k);
    EXPECT_EQ(f.dev.queues[0].notifies, 1u);
    ASSERT_TRUE(f.dev.next_chain(0, c));
    EXPECT_EQ(c.head, *h);
    ASSERT_EQ(c.readable.size(), 2u);
    ASSERT_EQ(c.writable.size(), 1u);
    EXPECT_EQ(c.readable[0].va, f.data.va);
    EXPECT_EQ(c.readable[1].len, 6u);
    EXPECT_EQ(c.writable[0].len, 100u);
    EXPECT_EQ(f.vq.pop().error(), Error::Empty);
    EXPECT_FALSE(f.vq.has_used());
    f.dev.complete(0, c.head, 42);
    EXPECT_TRUE(f.vq.has_used());
    auto done = f.vq.pop();
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->cookie, 0xc00c1eu);
    EXPECT_EQ(done->len, 42u);
    EXPECT_EQ(done->head, *h);
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    EXPECT_EQ(f.vq.outstanding(), 0);
}

// add_one(): the per-packet single-descriptor chain, mixed with add()'s
// chains, with the same checks and the same device view.
TEST_F(VirtioQueueTest, SingleSegmentChainsMixWithLongerOnes) {
    EXPECT_EQ(f.vq.add_one(f.seg(0, 0), false, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.add_one(Segment{~0ull - 3, 8}, true, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    Segment r[2] = {f.seg(0, 10), f.seg(10, 6)};
    auto tx = f.vq.add_one(f.seg(100, 60), false, 11);  // a frame to send
    auto rx = f.vq.add_one(f.seg(1024, 1526), true, 22);  // a buffer to fill
    auto two = f.vq.add(r, 2, nullptr, 0, 33);
    ASSERT_TRUE(tx.ok() && rx.ok() && two.ok());
    EXPECT_EQ(f.vq.free_descriptors(), 4);
    ASSERT_TRUE(f.vq.kick().ok());
    DeviceChain c[3];
    for (auto& chain : c) ASSERT_TRUE(f.dev.next_chain(0, chain));
    EXPECT_EQ(c[0].head, *tx);
    ASSERT_EQ(c[0].readable.size(), 1u);
    EXPECT_EQ(c[0].readable[0].len, 60u);
    EXPECT_TRUE(c[0].writable.empty());
    EXPECT_EQ(c[1].head, *rx);
    EXPECT_TRUE(c[1].readable.empty());
    ASSERT_EQ(c[1].writable.size(), 1u);
    EXPECT_EQ(c[1].writable[0].len, 1526u);
    EXPECT_EQ(c[2].readable.size(), 2u);
    // Completions in another order; a readable-only chain reports no bytes.
    f.dev.complete(0, c[1].head, 1000);
    f.dev.complete(0, c[2].head, 0);
    f.dev.complete(0, c[0].head, 0);
    const uint64_t cookies[3] = {22, 33, 11};
    const uint32_t lens[3] = {1000, 0, 0};
    for (int i = 0; i < 3; ++i) {
        auto done = f.vq.pop();
        ASSERT_TRUE(done.ok());
        EXPECT_EQ(done->cookie, cookies[i]);
        EXPECT_EQ(done->len, lens[i]);
    }
    EXPECT_EQ(f.vq.pop().error(), Error::Empty);
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    // Every descriptor can be taken one by one, then the queue is full.
    for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(f.vq.add_one(f.seg(uint32_t(i) * 64, 64), true, i).ok());
    EXPECT_EQ(f.vq.add_one(f.seg(0, 64), true, 9).error(), Error::Full);
}

// add_two() places what add() of the same two readable segments places, and
// refuses what add() refuses.
// add_one_and_kick(): the device sees the chain at once, and a chain
// queued before it is published with it, in order; a returned chain that
// was never published is still refused.
TEST_F(VirtioQueueTest, AddOneAndKickPublishesAtOnce) {
    EXPECT_EQ(f.vq.add_one_and_kick(f.seg(0, 0), 1).error(), Error::InvalidArgument);
    auto a = f.vq.add_one_and_kick(f.seg(100, 60), 11);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(f.vq.outstanding(), 1);
    DeviceChain c[3];
    ASSERT_TRUE(f.dev.next_chain(0, c[0]));
    EXPECT_EQ(c[0].head, *a);
    ASSERT_EQ(c[0].readable.size(), 1u);
    EXPECT_EQ(c[0].readable[0].len, 60u);
    EXPECT_FALSE(f.dev.next_chain(0, c[1]));
    auto queued = f.vq.add_one(f.seg(200, 40), false, 22);  // not kicked yet
    auto b = f.vq.add_one_and_kick(f.seg(300, 50), 33);
    ASSERT_TRUE(queued.ok() && b.ok());
    ASSERT_TRUE(f.dev.next_chain(0, c[1]));
    ASSERT_TRUE(f.dev.next_chain(0, c[2]));
    EXPECT_EQ(c[1].head, *queued);
    EXPECT_EQ(c[2].head, *b);
    f.dev.complete(0, c[2].head, 0);
    f.dev.complete(0, c[0].head, 0);
    f.dev.complete(0, c[1].head, 0);
    const uint64_t cookies[3] = {33, 11, 22};
    for (uint64_t cookie : cookies) {
        auto done = f.vq.pop();
        ASSERT_TRUE(done.ok());
        EXPECT_EQ(done->cookie, cookie);
    }
    EXPECT_EQ(f.vq.pop().error(), Error::Empty);
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    // A device returning a chain only added (never published) breaks the queue.
    auto pending = f.vq.add_one(f.seg(0, 64), false, 44);
    ASSERT_TRUE(pending.ok());
    f.dev.complete(0, *pending, 0);
    EXPECT_EQ(f.vq.pop().error(), Error::BadFormat);
}

TEST_F(VirtioQueueTest, TwoSegmentChainsMatchAdd) {
    EXPECT_EQ(f.vq.add_two(f.seg(0, 0), f.seg(10, 6), 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.add_two(f.seg(0, 10), Segment{~0ull - 3, 8}, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    Segment r[2] = {f.seg(0, 10), f.seg(10, 6)};
    auto by_add = f.vq.add(r, 2, nullptr, 0, 33);
    auto by_two = f.vq.add_two(f.seg(100, 54), f.seg(4096, 64), 44);
    ASSERT_TRUE(by_add.ok() && by_two.ok());
    EXPECT_EQ(f.vq.free_descriptors(), 4);
    ASSERT_TRUE(f.vq.kick().ok());
    DeviceChain c[2];
    for (auto& chain : c) ASSERT_TRUE(f.dev.next_chain(0, chain));
    EXPECT_EQ(c[1].head, *by_two);
    ASSERT_EQ(c[1].readable.size(), 2u);
    EXPECT_TRUE(c[1].writable.empty());
    EXPECT_EQ(c[1].readable[0].len, 54u);
    EXPECT_EQ(c[1].readable[1].len, 64u);
    EXPECT_EQ(c[0].readable.size(), 2u);
    f.dev.complete(0, c[1].head, 0);
    f.dev.complete(0, c[0].head, 0);
    auto done = f.vq.pop();
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->cookie, 44u);
    ASSERT_TRUE(f.vq.pop().ok());
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    // Three pairs fit in eight descriptors with one single; then Full.
    for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(f.vq.add_two(f.seg(0, 8), f.seg(64, 8), i).ok());
    ASSERT_TRUE(f.vq.add_one(f.seg(0, 8), false, 9).ok());
    EXPECT_EQ(f.vq.add_two(f.seg(0, 8), f.seg(64, 8), 10).error(), Error::Full);
    EXPECT_EQ(f.vq.free_descriptors(), 1);
}

TEST_F(VirtioQueueTest, PublishingFencesInSpecOrder) {
    uint64_t before_w = f.dev.fences[0], before_full = f.dev.fences[2], before_r = f.dev.fences[1];
    f.add_one(1);
    EXPECT_EQ(f.dev.fences[0], before_w + 1);     // before avail idx (2.7.13 step 4)
    EXPECT_EQ(f.dev.fences[2], before_full + 1);  // before reading used flags (step 6)
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    ASSERT_TRUE(f.vq.pop().ok());
    EXPECT_EQ(f.dev.fences[1], before_r + 1);  // before reading used entries
}

TEST_F(VirtioQueueTest, FullQueueAndArgumentChecks) {
    Segment s = f.seg(0, 8);
    Segment bad_len = f.seg(0, 0);
    Segment wraps{~0ull - 3, 8};
    EXPECT_EQ(f.vq.add(nullptr, 0, nullptr, 0, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.add(&bad_len, 1, nullptr, 0, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.add(&wraps, 1, nullptr, 0, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.vq.add(nullptr, 1, nullptr, 0, 1).error(), Error::InvalidArgument);
    std::vector<Segment> many(9, s);
    EXPECT_EQ(f.vq.add(many.data(), 9, nullptr, 0, 1).error(), Error::InvalidArgument);  // longer than the queue
    std::vector<Segment> huge(2, Segment{f.data.pa, 0x80000000u});
    EXPECT_EQ(f.vq.add(huge.data(), 2, nullptr, 0, 1).error(), Error::InvalidArgument);  // 4 GiB chain
    EXPECT_EQ(f.vq.free_descriptors(), 8);  // refused chains leave no trace
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(f.vq.add(many.data(), 2, nullptr, 0, i).ok());
    EXPECT_EQ(f.vq.add(&s, 1, nullptr, 0, 9).error(), Error::Full);
    EXPECT_EQ(f.vq.outstanding(), 4);
    auto k = f.vq.kick();
    ASSERT_TRUE(k.ok());
    EXPECT_TRUE(*k);
    auto again = f.vq.kick();  // nothing new: no doorbell
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(*again);
    EXPECT_EQ(f.dev.queues[0].notifies, 1u);
}

// Thousands of chains through a small queue: both 16-bit indices wrap
// several times, completions come back out of order, cookies and lengths
// always match.
void run_wraparound(bool event_idx) {
    QueueFixture f(8, event_idx);
    uint64_t next_cookie = 1;
    uint64_t expect_sum = 0, got_sum = 0;
    std::vector<DeviceChain> held;
    for (int round = 0; round < 40000; ++round) {
        int n = 1 + round % 3;
        for (int i = 0; i < n && f.vq.free_descriptors() >= 2; ++i) {
            Segment r = f.seg(0, 4), w = f.seg(64 * (i + 1), 32);
            ASSERT_TRUE(f.vq.add(&r, 1, &w, 1, next_cookie).ok());
            expect_sum += next_cookie++;
        }
        ASSERT_TRUE(f.vq.kick().ok());
        DeviceChain c;
        while (f.dev.next_chain(0, c)) held.push_back(c);
        // Complete in reverse order, with the writable length as len.
        std::reverse(held.begin(), held.end());
        for (const auto& h : held) f.dev.complete(0, h.head, h.head % 33);
        size_t completed = held.size();
        held.clear();
        for (size_t i = 0; i < completed; ++i) {
            auto c2 = f.vq.pop();
            ASSERT_TRUE(c2.ok()) << error_name(c2.error()) << " round " << round;
            EXPECT_EQ(c2->len, c2->head % 33u);
            got_sum += c2->cookie;
        }
        ASSERT_EQ(f.vq.pop().error(), Error::Empty);
    }
    EXPECT_EQ(got_sum, expect_sum);
    EXPECT_GT(next_cookie, 70000u);  // more than 2^16 chains: the indices wrapped
    EXPECT_EQ(f.vq.free_descriptors(), 8);
}

TEST(VirtioQueueWrap, WrapsWithoutEventIdx) { run_wraparound(false); }
TEST(VirtioQueueWrap, WrapsWithEventIdx) { run_wraparound(true); }

TEST_F(VirtioQueueTest, DeviceNoNotifyFlagSuppressesDoorbell) {
    f.dev.set_used_flags(0, 1);  // VIRTQ_USED_F_NO_NOTIFY
    f.add_one(1);
    EXPECT_EQ(f.dev.queues[0].notifies, 0u);
    f.dev.set_used_flags(0, 0);
    f.add_one(2);
    EXPECT_EQ(f.dev.queues[0].notifies, 1u);
}

TEST(VirtioQueueEventIdx, AvailEventDecidesTheDoorbell) {
    QueueFixture f(8, true);
    f.dev.set_used_flags(0, 1);  // ignored with EVENT_IDX (section 2.7.10)
    f.dev.set_avail_event(0, 0);  // wants a notification when entry 0 is published
    f.add_one(1);
    EXPECT_EQ(f.dev.queues[0].notifies, 1u);
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    ASSERT_TRUE(f.vq.pop().ok());
    f.dev.set_avail_event(0, 5);  // not until entry 5
    f.add_one(2);  // entry 1
    f.add_one(3);  // entry 2
    EXPECT_EQ(f.dev.queues[0].notifies, 1u);
    // A batch of entries 3..5 crosses avail_event: one notification.
    Segment r = f.seg(0, 4);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.vq.add(&r, 1, nullptr, 0, 10 + i).ok());
    ASSERT_TRUE(*f.vq.kick());
    EXPECT_EQ(f.dev.queues[0].notifies, 2u);
}

TEST_F(VirtioQueueTest, InterruptSuppressionWithFlags) {
    f.vq.disable_interrupts();
    EXPECT_EQ(f.dev.avail_flags(0), 1);
    f.add_one(1);
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    EXPECT_EQ(f.dev.interrupts, 0u);
    // Arming with a completion already there: the caller must poll, not sleep.
    EXPECT_TRUE(f.vq.enable_interrupts());
    EXPECT_EQ(f.dev.avail_flags(0), 0);
    ASSERT_TRUE(f.vq.pop().ok());
    EXPECT_FALSE(f.vq.enable_interrupts());
    f.add_one(2);
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    EXPECT_EQ(f.dev.interrupts, 1u);
}

// Arming before a sleep orders the store of the interrupt request before
// the re-read of the used idx with Fence::Device (a plain fence is not a
// host barrier on QEMU's single-threaded TCG: without it echo's TCP 8 KiB
// rounds waited up to ~250 ms, for a timer, 3-4 times a second).
TEST_F(VirtioQueueTest, ArmingIsFencedThroughTheDevice) {
    f.vq.disable_interrupts();
    const uint64_t device_fences = f.dev.fences[static_cast<int>(Fence::Device)];
    EXPECT_FALSE(f.vq.enable_interrupts());
    EXPECT_EQ(f.dev.fences[static_cast<int>(Fence::Device)], device_fences + 1);
}

TEST(VirtioQueueEventIdx, InterruptSuppressionWithUsedEvent) {
    QueueFixture f(8, true);
    f.vq.disable_interrupts();
    EXPECT_EQ(f.dev.avail_flags(0), 0);  // flags stay 0 with EVENT_IDX
    DeviceChain c;
    for (uint64_t i = 0; i < 20; ++i) {
        f.add_one(i);
        ASSERT_TRUE(f.dev.next_chain(0, c));
        f.dev.complete(0, c.head, 0);
        ASSERT_TRUE(f.vq.pop().ok());
    }
    EXPECT_EQ(f.dev.interrupts, 0u);
    EXPECT_FALSE(f.vq.enable_interrupts());
    EXPECT_EQ(f.dev.used_event(0), 20);
    f.add_one(99);
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    EXPECT_EQ(f.dev.interrupts, 1u);
    ASSERT_TRUE(f.vq.pop().ok());
    EXPECT_EQ(f.dev.used_event(0), 21);  // still armed: the next entry interrupts too
}

TEST_F(VirtioQueueTest, ReclaimAfterResetReturnsEveryBuffer) {
    f.add_one(1);
    f.add_one(2);
    Segment r = f.seg(0, 4);
    ASSERT_TRUE(f.vq.add(&r, 1, nullptr, 0, 3).ok());  // added, never published
    ASSERT_TRUE(f.transport.reset().ok());
    uint64_t sum = 0;
    int n = 0;
    for (;;) {
        auto c = f.vq.reclaim();
        if (!c.ok()) {
            EXPECT_EQ(c.error(), Error::Empty);
            break;
        }
        sum += c->cookie;
        ++n;
    }
    EXPECT_EQ(n, 3);
    EXPECT_EQ(sum, 6u);
    EXPECT_EQ(f.vq.free_descriptors(), 8);
    EXPECT_EQ(f.vq.outstanding(), 0);
}

// ------------------------------------------------------ misbehaving device

struct VirtioBadDeviceTest : VirtioQueueTest {
    void expect_broken() {
        EXPECT_EQ(f.vq.pop().error(), Error::BadFormat);
        EXPECT_TRUE(f.vq.broken());
        // Broken stays broken: nothing more is trusted or submitted.
        EXPECT_EQ(f.vq.pop().error(), Error::BadFormat);
        Segment r = f.seg(0, 4);
        EXPECT_EQ(f.vq.add(&r, 1, nullptr, 0, 7).error(), Error::BadFormat);
        EXPECT_EQ(f.vq.kick().error(), Error::BadFormat);
        EXPECT_FALSE(f.vq.has_used());
        EXPECT_TRUE(f.vq.enable_interrupts());
    }
};

TEST_F(VirtioBadDeviceTest, UsedIndexJumpsBeyondQueueSize) {
    f.add_one(1);
    f.dev.set_used_idx(0, 9);  // queue size is 8
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, UsedIndexClaimsMoreThanInFlight) {
    f.add_one(1);
    f.add_one(2);
    f.dev.write_used_elem(0, 0, 0, 0);
    f.dev.set_used_idx(0, 3);  // only two chains were ever given
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, UsedIndexGoesBackwards) {
    f.add_one(1);
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    ASSERT_TRUE(f.vq.pop().ok());
    f.add_one(2);
    f.dev.set_used_idx(0, 0);  // from 1 back to 0: a delta of 65535
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, IdOutOfRange) {
    f.add_one(1);
    f.dev.write_used_elem(0, 0, 8, 0);
    f.dev.set_used_idx(0, 1);
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, HugeIdOutOfRange) {
    f.add_one(1);
    f.dev.write_used_elem(0, 0, 0xffffffffu, 0);
    f.dev.set_used_idx(0, 1);
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, IdOfAFreeDescriptor) {
    uint16_t h = f.add_one(1);  // uses descriptors h and h's next; 7 is free
    ASSERT_NE(h, 7);
    f.dev.write_used_elem(0, 0, 7, 0);
    f.dev.set_used_idx(0, 1);
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, IdOfAChainBodyNotAHead) {
    uint16_t h = f.add_one(1);
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    uint16_t body = h == 0 ? 1 : 0;  // the second descriptor the bitmap handed out
    f.dev.write_used_elem(0, 0, body, 0);
    f.dev.set_used_idx(0, 1);
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, SameHeadCompletedTwice) {
    f.add_one(1);
    f.add_one(2);
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 0);
    f.dev.complete(0, c.head, 0);
    ASSERT_TRUE(f.vq.pop().ok());
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, HeadAddedButNotPublished) {
    f.add_one(1);
    Segment r = f.seg(0, 4);
    auto h = f.vq.add(&r, 1, nullptr, 0, 2);
    ASSERT_TRUE(h.ok());
    f.dev.write_used_elem(0, 0, *h, 0);  // the device peeked past avail idx
    f.dev.set_used_idx(0, 1);
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, LengthBeyondWritableCapacity) {
    f.add_one(1, 64);
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 65);
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, LengthOnReadOnlyChain) {
    Segment r = f.seg(0, 4);
    ASSERT_TRUE(f.vq.add(&r, 1, nullptr, 0, 1).ok());
    ASSERT_TRUE(f.vq.kick().ok());
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 1);  // nothing was writable
    expect_broken();
}

TEST_F(VirtioBadDeviceTest, LengthBeyondASingleBuffer) {
    ASSERT_TRUE(f.vq.add_one(f.seg(0, 100), true, 1).ok());
    ASSERT_TRUE(f.vq.kick().ok());
    DeviceChain c;
    ASSERT_TRUE(f.dev.next_chain(0, c));
    f.dev.complete(0, c.head, 101);
    expect_broken();
    EXPECT_EQ(f.vq.add_one(f.seg(0, 100), true, 2).error(), Error::BadFormat);
}

TEST_F(VirtioBadDeviceTest, BrokenQueueStillReclaims) {
    f.add_one(41);
    f.dev.set_used_idx(0, 200);
    expect_broken();
    auto c = f.vq.reclaim();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->cookie, 41u);
    EXPECT_EQ(f.vq.reclaim().error(), Error::Empty);
}

// Random garbage in the whole used ring never crashes or reads out of
// bounds (ASan), and never yields a cookie that was not in flight.
TEST(VirtioQueueFuzz, RandomUsedRingContents) {
    uint32_t rng = 12345;
    auto next = [&] { return rng = rng * 1103515245u + 12345u; };
    for (int iter = 0; iter < 2000; ++iter) {
        QueueFixture f(8, iter % 2 == 0);
        std::vector<uint64_t> live;
        for (int i = 0; i < 3; ++i) {
            f.add_one(100 + i, 16);
            live.push_back(100 + i);
        }
        for (uint16_t s = 0; s < 8; ++s) f.dev.write_used_elem(0, s, next() % 12, next() % 20);
        f.dev.set_used_idx(0, static_cast<uint16_t>(next() % 6 == 0 ? next() : next() % 5));
        for (int i = 0; i < 10; ++i) {
            auto c = f.vq.pop();
            if (!c.ok()) {
                ASSERT_TRUE(c.error() == Error::Empty || c.error() == Error::BadFormat);
                break;
            }
            auto it = std::find(live.begin(), live.end(), c->cookie);
            ASSERT_NE(it, live.end());
            live.erase(it);
            ASSERT_LE(c->len, 16u);
        }
    }
}

}  // namespace
}  // namespace ringlet::virtio
