// CoreMesh: a core that closes (its buffers and the owner's come home),
// ARP replies, a device that steers, full rings, two threads as two cores.
#include "core_mesh_rig.h"

#include <atomic>
#include <thread>

namespace ringlet::backend {
namespace {

TEST(CoreMesh, OwnerBuffersAClosingCoreHeldComeHome) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    sink1.keep = true;
    const uint16_t p1 = rig->port_for(1);
    rig->dev.queued = {udp_frame(p1, 1), udp_frame(p1, 2), udp_frame(p1, 3)};
    rig->steering->poll(16, sink0);
    rig->forwarded->poll(16, sink1);
    ASSERT_EQ(sink1.held.size(), 3u);
    mem::Buffer* echoed = sink1.held[2];
    rig->other_heap.retain(echoed);  // the app keeps it and echoes it in place
    const net::TxSegment seg{echoed, echoed->off, echoed->len};
    ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    rig->dev.queued = {udp_frame(p1, 4)};
    rig->steering->poll(16, sink0);  // sends the echo; hands frame 4, never taken
    ASSERT_EQ(rig->dev.at_device.size(), 1u);
    EXPECT_EQ(rig->owner_heap.live(), 4u);
    rig->mesh->leave(1);  // its stack and app are gone with what they held
    rig->steering->poll(16, sink0);
    EXPECT_TRUE(rig->mesh->leaving(1));  // the echo is still at the device
    EXPECT_EQ(rig->owner_heap.live(), 4u);
    rig->dev.complete();
    rig->steering->poll(16, sink0);
    EXPECT_FALSE(rig->mesh->leaving(1));
    EXPECT_EQ(rig->owner_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->stats(0).rx_reclaimed, 4u);
    EXPECT_TRUE(rig->mesh->ready_to_sleep(0));  // nothing left to settle

    // Back, with a new heap over the same region.
    ASSERT_TRUE(rig->mesh->reclaim(1).ok());
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    rig->mesh->cancel_sleep(0);
    rig->other_heap = *mem::DmaHeap::create(rig->other_region, sizeof rig->other_region);
    Sink again(rig->other_heap);
    ForwardedNic back(*rig->mesh, 1);
    ASSERT_TRUE(back.start(rig->other_heap).ok());
    rig->dev.queued = {udp_frame(p1, 5)};
    rig->steering->poll(16, sink0);
    back.poll(16, again);
    ASSERT_EQ(again.frames.size(), 1u);
    EXPECT_EQ(again.frames[0][42], 5);
    rig->steering->poll(16, sink0);  // its buffer came home
    EXPECT_EQ(rig->owner_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->stats(0).rx_reclaimed, 4u);
}

// A mesh whose owner lends no buffers (storage only: no track_lent, no
// owner_poll) has nothing to settle: a core leaves and comes back at once,
// and the owner still sleeps.
TEST(CoreMesh, WithoutLentBuffersACoreLeavesAndComesBackAtOnce) {
    CoreMesh mesh;
    ASSERT_TRUE(mesh.init(2, net::MacAddress{}, kHeadroom, nullptr, nullptr).ok());
    alignas(64) static unsigned char region[1 << 16];
    mem::DmaHeap heap = *mem::DmaHeap::create(region, sizeof region);
    mesh.join(1, heap);
    mesh.leave(1);
    EXPECT_FALSE(mesh.leaving(1));
    EXPECT_TRUE(mesh.ready_to_sleep(0));
    EXPECT_TRUE(mesh.reclaim(1).ok());
}

TEST(CoreMesh, ArpRepliesAreCopiedToEveryCoreAndNonFlowsStayOnTheOwner) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    rig->dev.queued = {arp_reply()};
    rig->steering->poll(16, sink0);
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(sink0.frames.size(), 1u);
    ASSERT_EQ(sink1.frames.size(), 1u);
    EXPECT_EQ(sink1.frames[0], arp_reply());
    EXPECT_EQ(rig->mesh->stats(0).arp_copies, 1u);
    rig->steering->poll(16, sink0);  // the copy came back
    EXPECT_EQ(rig->owner_heap.live(), 0u);
}

// With RSS the device has already steered: core 0's SteeringNic keeps
// every frame (no hash, no hand-off) and only copies ARP replies on.
TEST(CoreMesh, WhenTheDeviceSteersEveryFrameStaysAndArpRepliesAreCopied) {
    auto rig = std::make_unique<Rig>();
    SteeringNic rss(rig->dev, *rig->mesh, LentTx{&FakeDevice::send_lent, &rig->dev}, true);
    ASSERT_TRUE(rss.start(rig->owner_heap).ok());
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    rig->dev.queued = {udp_frame(rig->port_for(1), 1), arp_reply(), udp_frame(rig->port_for(0), 2)};
    rss.poll(16, sink0);
    ASSERT_EQ(sink0.frames.size(), 3u);
    EXPECT_EQ(sink0.frames[0][42], 1);  // core 1's flow: the device put it on core 0's queue
    EXPECT_EQ(sink0.frames[1], arp_reply());
    const MeshCoreStats& s0 = rig->mesh->stats(0);
    EXPECT_EQ(s0.rx_kept, 3u);
    EXPECT_EQ(s0.rx_handed, 0u);
    EXPECT_EQ(s0.arp_copies, 1u);
    rig->forwarded->poll(16, sink1);
    ASSERT_EQ(sink1.frames.size(), 1u);
    EXPECT_EQ(sink1.frames[0], arp_reply());
    rss.poll(16, sink0);  // the copy came back
    EXPECT_EQ(rig->owner_heap.live(), 0u);
}

TEST(CoreMesh, AFullRingDropsAndCountsAndASleepingCoreIsWokenOnce) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    EXPECT_TRUE(rig->mesh->ready_to_sleep(1));
    const uint16_t p1 = rig->port_for(1);
    for (uint32_t i = 0; i < kHandOffSlots + 10; ++i) rig->dev.queued.push_back(udp_frame(p1, 0));
    while (!rig->dev.queued.empty()) rig->steering->poll(64, sink0);
    EXPECT_EQ(rig->mesh->stats(0).rx_handed, kHandOffSlots);
    EXPECT_EQ(rig->mesh->stats(0).rx_dropped, 10u);
    EXPECT_EQ(rig->wakes[1], 1);  // rung once, then its flag was down
    EXPECT_FALSE(rig->mesh->ready_to_sleep(1));  // frames are waiting
    rig->forwarded->poll(1000, sink1);
    EXPECT_EQ(sink1.frames.size(), kHandOffSlots);
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->owner_heap.live(), 0u);
    EXPECT_TRUE(rig->mesh->ready_to_sleep(1));
}

// Two threads as two cores: every frame arrives once, every frame core 1
// sends back goes out, and every buffer is back in its own heap at the end.
TEST(CoreMesh, TwoCoresConcurrently) {
    auto rig = std::make_unique<Rig>();
    const uint16_t p0 = rig->port_for(0), p1 = rig->port_for(1);
    constexpr int kFrames = 20000;
    std::atomic<uint64_t> expected{~0ull};  // frames handed to core 1, once known
    std::atomic<bool> core1_sent{false}, owner_drained{false};
    uint64_t got1 = 0;
    std::thread core1([&] {
        Sink sink1(rig->other_heap);
        while (got1 < expected.load()) {
            rig->forwarded->poll(64, sink1);
            got1 += sink1.frames.size();
            for (; !sink1.frames.empty(); sink1.frames.pop_back()) {  // one frame back per frame
                mem::Buffer* b = *rig->other_heap.alloc(32);
                const net::TxSegment seg{b, kHeadroom, 8};
                (void)rig->forwarded->transmit(&seg, 1, nullptr);
            }
        }
        core1_sent.store(true);
        while (!owner_drained.load()) rig->forwarded->poll(64, sink1);
        rig->forwarded->poll(64, sink1);
    });
    Sink sink0(rig->owner_heap);
    for (int i = 0; i < kFrames; ++i) {
        rig->dev.queued.push_back(udp_frame(i % 2 ? p1 : p0, 0));
        rig->steering->poll(4, sink0);
        rig->dev.complete();
    }
    expected.store(rig->mesh->stats(0).rx_handed);
    while (!core1_sent.load()) {
        rig->steering->poll(64, sink0);
        rig->dev.complete();
    }
    do {  // until every descriptor is on its way back (some may wait for room)
        rig->steering->poll(64, sink0);
        rig->dev.complete();
    } while (rig->mesh->tx_waiting(1) != 0);
    owner_drained.store(true);
    core1.join();
    rig->steering->poll(64, sink0);  // the last buffers core 1 gave back
    const MeshCoreStats& s = rig->mesh->stats(0);
    EXPECT_EQ(s.rx_kept + s.rx_handed + s.rx_dropped, static_cast<uint64_t>(kFrames));
    EXPECT_EQ(s.rx_kept, static_cast<uint64_t>(kFrames / 2));
    EXPECT_EQ(got1, s.rx_handed);
    EXPECT_EQ(rig->mesh->stats(1).tx_handed, s.tx_sent);  // none dropped: over the cap waits
    EXPECT_EQ(rig->mesh->stats(1).tx_dropped, 0u);
    EXPECT_EQ(rig->mesh->stats(1).tx_handed + rig->mesh->stats(1).tx_full, s.rx_handed);
    EXPECT_EQ(rig->mesh->stats(1).tx_returned, rig->mesh->stats(1).tx_handed);
    EXPECT_EQ(rig->dev.sent.size(), s.tx_sent);
    EXPECT_EQ(s.tx_copied_bytes, 0u);
    EXPECT_EQ(rig->owner_heap.live(), 0u);
    EXPECT_EQ(rig->other_heap.live(), 0u);
}

}  // namespace
}  // namespace ringlet::backend
