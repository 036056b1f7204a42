// CoreMesh (libos/backend/core_mesh.h): software steering of a single-queue
// NIC between the cores of one app, with per-core heaps, on the host: the
// owner's SteeringNic over a fake device, another core's ForwardedNic.
#include "core_mesh_rig.h"

namespace ringlet::backend {
namespace {

TEST(CoreMesh, FramesGoToTheCoreTheirFlowHashesToByPointer) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    sink1.keep = true;
    const uint16_t p0 = rig->port_for(0), p1 = rig->port_for(1);
    rig->dev.queued = {udp_frame(p0, 1), udp_frame(p1, 2), udp_frame(p1, 3)};
    rig->steering->poll(16, sink0);
    ASSERT_EQ(sink0.frames.size(), 1u);
    EXPECT_EQ(sink0.frames[0][42], 1);
    EXPECT_EQ(rig->mesh->stats(0).rx_handed, 2u);
    rig->forwarded->poll(16, sink1);
    ASSERT_EQ(sink1.frames.size(), 2u);
    EXPECT_EQ(sink1.frames[0][42], 2);  // in order
    EXPECT_EQ(sink1.frames[1][42], 3);
    // Zero-copy: core 1 holds the owner's very buffers...
    for (mem::Buffer* b : sink1.held) EXPECT_TRUE(rig->owner_heap.contains(b));
    EXPECT_EQ(rig->other_heap.live(), 0u);
    EXPECT_EQ(rig->owner_heap.live(), 2u);
    // ...and their last references go back to the owner, which frees them.
    for (mem::Buffer* b : sink1.held) rig->other_heap.release(b);
    EXPECT_EQ(rig->owner_heap.live(), 2u);
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->owner_heap.live(), 0u);
}

// A flow a core opens itself: the local port its NicPort's chooser gives it
// makes the peer's replies land on that core (issue 14).
TEST(CoreMesh, RepliesToAPortACoreChoseComeToThatCore) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    ASSERT_NE(rig->steering->local_ports(), nullptr);
    ASSERT_NE(rig->forwarded->local_ports(), nullptr);
    EXPECT_EQ(rig->steering->local_ports()->core(), 0);
    EXPECT_EQ(rig->forwarded->local_ports()->core(), 1);
    auto any = [](void*, uint16_t) -> Result<void> { return {}; };
    constexpr uint32_t kGuest = 0x0a00020f, kGateway = 0x0a000202;  // udp_frame's, host order
    for (uint8_t i = 0; i < 20; ++i) {
        const uint16_t peer = static_cast<uint16_t>(7000 + i);
        const uint16_t p0 = *rig->steering->local_ports()->bind(kGuest, kGateway, peer, any, nullptr);
        const uint16_t p1 = *rig->forwarded->local_ports()->bind(kGuest, kGateway, peer, any, nullptr);
        rig->dev.queued = {udp_frame(peer, i, p0), udp_frame(peer, static_cast<uint8_t>(100 + i), p1)};
        rig->steering->poll(16, sink0);
        rig->forwarded->poll(16, sink1);
        ASSERT_EQ(sink0.frames.size(), i + 1u);
        ASSERT_EQ(sink1.frames.size(), i + 1u);
        EXPECT_EQ(sink0.frames.back()[42], i);
        EXPECT_EQ(sink1.frames.back()[42], 100 + i);
    }
    rig->steering->poll(16, sink0);  // the buffers core 1 gave back
    EXPECT_EQ(rig->owner_heap.live(), 0u);
}

// Zero-copy TX: the device reads core 1's own buffers; the owner copies
// nothing and allocates nothing, and core 1 gets its references back only
// once the device is done with them.
TEST(CoreMesh, OtherCoresFramesGoOutInPlaceAndComeBackAfterTheDevice) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    // A frame of two segments in core 1's buffers, headroom in front.
    mem::Buffer* head = *rig->other_heap.alloc(64);
    mem::Buffer* body = *rig->other_heap.alloc(64);
    memset(head->data() + kHeadroom, 0xaa, 10);
    memset(body->data(), 0xbb, 20);
    const net::TxSegment segs[2] = {{head, kHeadroom, 10}, {body, 0, 20}};
    FakeDevice::read_from.clear();
    ASSERT_TRUE(rig->forwarded->transmit(segs, 2, nullptr).ok());
    EXPECT_EQ(rig->wakes[0], 0);  // core 0 is not asleep
    EXPECT_EQ(rig->mesh->tx_out(1), 1u);
    rig->steering->poll(16, sink0);
    ASSERT_EQ(rig->dev.sent.size(), 1u);
    ASSERT_EQ(rig->dev.sent[0].size(), 30u);
    EXPECT_EQ(rig->dev.sent[0][0], 0xaa);
    EXPECT_EQ(rig->dev.sent[0][29], 0xbb);
    ASSERT_EQ(FakeDevice::read_from.size(), 2u);  // where the device read: core 1's buffers
    EXPECT_EQ(FakeDevice::read_from[0], head->data() + kHeadroom);
    EXPECT_EQ(FakeDevice::read_from[1], body->data());
    const MeshCoreStats& s0 = rig->mesh->stats(0);
    EXPECT_EQ(s0.tx_sent, 1u);
    EXPECT_EQ(s0.tx_copied_bytes, 0u);
    EXPECT_EQ(rig->owner_heap.live(), 0u);  // nothing of the owner's was used
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->other_heap.live(), 2u);  // still at the device
    rig->dev.complete();
    EXPECT_FALSE(rig->mesh->ready_to_sleep(1));  // its descriptor waits for it
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->other_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    EXPECT_EQ(rig->mesh->stats(1).tx_returned, 1u);
    EXPECT_EQ(rig->wakes[1], 0);  // a return is no reason to wake anyone
}

// Frames another core hands over in one round wake a sleeping owner once,
// at the end of the round (the next poll, or before that core sleeps).
TEST(CoreMesh, FramesHandedInOneRoundWakeASleepingOwnerOnce) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    EXPECT_TRUE(rig->mesh->ready_to_sleep(0));
    for (uint32_t i = 0; i < 3; ++i) {
        mem::Buffer* b = *rig->other_heap.alloc(64);
        const net::TxSegment seg{b, kHeadroom, 40};
        ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    }
    EXPECT_EQ(rig->wakes[0], 0);  // not yet: the round goes on
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->wakes[0], 1);
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->wakes[0], 1);
    // A core about to sleep announces what it handed over first.
    EXPECT_FALSE(rig->mesh->ready_to_sleep(0));  // three frames wait for it
    rig->steering->poll(16, sink0);
    EXPECT_TRUE(rig->mesh->ready_to_sleep(0));
    mem::Buffer* b = *rig->other_heap.alloc(64);
    const net::TxSegment seg{b, kHeadroom, 40};
    ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    rig->dev.complete();
    EXPECT_FALSE(rig->mesh->ready_to_sleep(1));  // its sent frames wait for it
    EXPECT_EQ(rig->wakes[0], 2);
    EXPECT_EQ(rig->dev.sent.size(), 3u);
}

// A frame the device refuses is counted and comes back whole: nothing leaks
// and the next one goes out.
TEST(CoreMesh, AFrameTheNicRefusesIsCountedAndComesBack) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    auto send_one = [&] {
        mem::Buffer* b = *rig->other_heap.alloc(64);
        memset(b->data() + kHeadroom, 0xcc, 40);
        const net::TxSegment seg{b, kHeadroom, 40};
        ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    };
    rig->dev.refuse = true;
    send_one();
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->dev.sent.size(), 0u);
    EXPECT_EQ(rig->mesh->stats(0).tx_send_failed, 1u);
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->other_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    rig->dev.refuse = false;
    send_one();
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->dev.sent.size(), 1u);
    EXPECT_EQ(rig->mesh->stats(0).tx_copied_bytes, 0u);
    EXPECT_EQ(rig->owner_heap.live(), 0u);
}

// Core 1 echoes a frame it was lent (a buffer of the owner's heap): it goes
// out in place too, and the reference core 1 held comes back to core 1,
// whose heap gives the buffer home - the owner never touched its count.
TEST(CoreMesh, ALentBufferEchoedBackGoesOutInPlaceAndHome) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    sink1.keep = true;
    rig->dev.queued = {udp_frame(rig->port_for(1), 7)};
    rig->steering->poll(16, sink0);
    rig->forwarded->poll(16, sink1);
    ASSERT_EQ(sink1.held.size(), 1u);
    mem::Buffer* b = sink1.held[0];
    EXPECT_TRUE(rig->owner_heap.contains(b));
    const net::TxSegment seg{b, b->off, b->len};
    ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());  // takes over core 1's reference
    rig->steering->poll(16, sink0);
    ASSERT_EQ(rig->dev.sent.size(), 1u);
    EXPECT_EQ(rig->dev.sent[0][42], 7);
    EXPECT_EQ(rig->owner_heap.live(), 1u);  // at the device
    rig->dev.complete();
    rig->forwarded->poll(16, sink1);  // core 1 drops the last reference: home it goes
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->owner_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->stats(0).tx_copied_bytes, 0u);
}

// No core can take the owner's whole TX ring: beyond kLentTxCap buffers at
// the device, its frames wait on the owner (counted, in order) until the
// device gives some back; none is dropped, nothing leaks.
TEST(CoreMesh, ACoreOverItsShareOfTheRingWaitsItsTurn) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    constexpr uint32_t kFrames = kLentTxCap / 2 + 8;  // two segments each
    for (uint32_t i = 0; i < kFrames; ++i) {
        mem::Buffer* h = *rig->other_heap.alloc(64);
        mem::Buffer* d = *rig->other_heap.alloc(64);
        memset(d->data(), static_cast<int>(i), 30);
        const net::TxSegment segs[2] = {{h, kHeadroom, 14}, {d, 0, 30}};
        ASSERT_TRUE(rig->forwarded->transmit(segs, 2, nullptr).ok());
    }
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->dev.sent.size(), kLentTxCap / 2);
    EXPECT_EQ(rig->mesh->stats(0).tx_waited, 1u);
    EXPECT_EQ(rig->mesh->tx_waiting(1), 1u);
    EXPECT_FALSE(rig->mesh->ready_to_sleep(0));  // a frame waits: no sleep
    rig->steering->poll(16, sink0);  // the device has not given any back yet
    EXPECT_EQ(rig->dev.sent.size(), kLentTxCap / 2);
    rig->dev.complete();
    rig->steering->poll(16, sink0);
    ASSERT_EQ(rig->dev.sent.size(), kFrames);
    for (uint32_t i = 0; i < kFrames; ++i) EXPECT_EQ(rig->dev.sent[i][14], static_cast<uint8_t>(i)) << i;
    rig->dev.complete();
    rig->forwarded->poll(64, sink1);
    EXPECT_EQ(rig->other_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    EXPECT_EQ(rig->mesh->stats(0).tx_send_failed, 0u);
    EXPECT_TRUE(rig->mesh->ready_to_sleep(0));
}

// A full TX ring (the NIC answers Full) holds a lent frame on the owner for
// the next round instead of dropping it: issue 14's lost echoes under load,
// when three cores' frames and the owner's own outran the ring.
TEST(CoreMesh, AFrameTheRingHasNoRoomForGoesOutNextRound) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    for (int v = 1; v <= 3; ++v) {
        mem::Buffer* b = *rig->other_heap.alloc(64);
        memset(b->data() + kHeadroom, v, 40);
        const net::TxSegment seg{b, kHeadroom, 40};
        ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    }
    rig->dev.ring_full = true;
    rig->steering->poll(16, sink0);
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->dev.sent.size(), 0u);
    EXPECT_EQ(rig->mesh->stats(0).tx_send_failed, 0u);
    EXPECT_EQ(rig->mesh->stats(0).tx_waited, 2u);  // once a round, the first frame
    EXPECT_EQ(rig->mesh->tx_out(1), 3u);
    EXPECT_FALSE(rig->mesh->ready_to_sleep(0));
    rig->dev.ring_full = false;
    rig->steering->poll(16, sink0);
    ASSERT_EQ(rig->dev.sent.size(), 3u);
    for (int v = 1; v <= 3; ++v) EXPECT_EQ(rig->dev.sent[v - 1][0], v);
    rig->dev.complete();
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->other_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
}

// A core that does not take its sent frames back fills its return ring: the
// owner keeps the rest, counts them, and hands them back on later rounds.
TEST(CoreMesh, AFullReturnRingLosesNoFrame) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    auto send = [&](uint32_t frames) {
        for (uint32_t i = 0; i < frames; ++i) {
            mem::Buffer* b = *rig->other_heap.alloc(64);
            const net::TxSegment seg{b, kHeadroom, 40};
            ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
        }
        rig->steering->poll(16, sink0);
        rig->dev.complete();
    };
    send(kTxDoneSlots - 4);
    send(kTxDoneSlots - 4);  // 4 fit, the rest wait on the owner
    EXPECT_EQ(rig->mesh->stats(0).tx_back_deferred, kTxDoneSlots - 8);
    EXPECT_EQ(rig->mesh->tx_out(1), 2 * kTxDoneSlots - 8);
    rig->forwarded->poll(16, sink1);
    rig->steering->poll(16, sink0);  // the rest go back now
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    EXPECT_EQ(rig->mesh->stats(1).tx_returned, 2 * kTxDoneSlots - 8);
    EXPECT_EQ(rig->other_heap.live(), 0u);
}

// A core with every descriptor out with the owner is refused (Full: the
// sender keeps the frame - TCP sends it again - or reports it) and that is
// counted as backpressure, tx_full, not as a dropped frame; a frame the
// mesh cannot carry at all (no segment) is refused and counted as dropped.
TEST(CoreMesh, NoDescriptorFreeIsBackpressureNotADrop) {
    auto rig = std::make_unique<Rig>();
    for (uint32_t i = 0; i < kTxRequests; ++i) {
        mem::Buffer* b = *rig->other_heap.alloc(64);
        const net::TxSegment seg{b, kHeadroom, 40};
        ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    }
    mem::Buffer* b = *rig->other_heap.alloc(64);
    const net::TxSegment seg{b, kHeadroom, 40};
    auto refused = rig->forwarded->transmit(&seg, 1, nullptr);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error(), Error::Full);
    EXPECT_EQ(rig->mesh->stats(1).tx_full, 1u);
    EXPECT_EQ(rig->mesh->stats(1).tx_dropped, 0u);
    EXPECT_EQ(rig->mesh->hand_tx(1, rig->other_heap, &seg, 0).error(), Error::Full) << "still none free";
    EXPECT_EQ(rig->mesh->stats(1).tx_full, 2u);
    // The owner sends them; their descriptors come back; an empty frame is not carried.
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    for (int round = 0; round < 8 && rig->mesh->tx_out(1) != 0; ++round) {
        rig->steering->poll(64, sink0);
        rig->dev.complete();
        rig->forwarded->poll(64, sink1);
    }
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    EXPECT_EQ(rig->mesh->hand_tx(1, rig->other_heap, &seg, 0).error(), Error::InvalidArgument);
    EXPECT_EQ(rig->mesh->stats(1).tx_dropped, 1u);
    EXPECT_EQ(rig->other_heap.live(), 0u);
}

// A core that closes while its frames are at the device: its flows stay on
// the owner, and before it makes a new heap over its region it takes every
// descriptor back without releasing into any heap (Busy while the device
// still holds one); frames it had been handed go home to the owner.
TEST(CoreMesh, ACoreThatClosesGetsNothingReturnedIntoANewHeap) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    const uint16_t p1 = rig->port_for(1);
    rig->dev.queued = {udp_frame(p1, 1)};
    rig->steering->poll(16, sink0);  // handed to core 1, which never takes it
    for (uint32_t i = 0; i < 3; ++i) {
        mem::Buffer* b = *rig->other_heap.alloc(64);
        const net::TxSegment seg{b, kHeadroom, 40};
        ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    }
    rig->steering->poll(16, sink0);
    rig->mesh->leave(1);
    rig->dev.queued = {udp_frame(p1, 2)};
    rig->steering->poll(16, sink0);
    EXPECT_EQ(sink0.frames.size(), 1u);  // kept: core 1 is gone
    EXPECT_EQ(rig->mesh->stats(0).rx_not_up, 1u);
    EXPECT_TRUE(rig->mesh->leaving(1));  // three still at the device: not settled
    EXPECT_EQ(rig->mesh->reclaim(1).error(), Error::Busy);
    rig->dev.complete();
    rig->steering->poll(16, sink0);  // the owner settles it
    EXPECT_FALSE(rig->mesh->leaving(1));
    EXPECT_EQ(rig->owner_heap.live(), 0u);  // the frame it was handed came home
    EXPECT_EQ(rig->mesh->stats(0).rx_reclaimed, 1u);
    EXPECT_TRUE(rig->mesh->reclaim(1).ok());
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    EXPECT_EQ(rig->other_heap.live(), 3u);  // the old heap's counts: untouched
}

// The owner's buffers a core still holds when it closes - in its stack or
// app, echoed in place and at the device, handed and never taken - go back
// to the owner's heap once none of them is at the device; the core then
// comes back with a new heap and the hand-off works as before, with no
// buffer freed twice.
}  // namespace
}  // namespace ringlet::backend
