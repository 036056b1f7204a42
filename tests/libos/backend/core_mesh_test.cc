// CoreMesh (libos/backend/core_mesh.h): software steering of a single-queue
// NIC between the cores of one app, with per-core heaps, on the host: the
// owner's SteeringNic over a fake device, another core's ForwardedNic.
#include "libos/backend/core_mesh.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace ringlet::backend {
namespace {

constexpr uint32_t kHeadroom = 12;

// A single-queue device: frames queued by the test come out of poll();
// transmitted frames are recorded (bytes) and their references dropped.
// Other cores' frames (send_lent, the LentTx) are recorded with where their
// bytes were read from and held "at the device" until complete().
class FakeDevice final : public net::NicPort {
public:
    net::MacAddress mac() const override { return {{2, 0, 0, 0, 0, 1}}; }
    uint32_t tx_headroom() const override { return kHeadroom; }
    Result<void> start(mem::DmaHeap& heap) override {
        m_heap = &heap;
        return {};
    }
    Result<void> transmit(const net::TxSegment* segs, uint32_t n, const net::ChecksumRequest*) override {
        if (refuse) {  // a full ring: the reference is dropped all the same
            for (uint32_t i = 0; i < n; ++i) m_heap->release(segs[i].buf);
            return Error::Full;
        }
        std::vector<uint8_t> frame;
        for (uint32_t i = 0; i < n; ++i) {
            const uint8_t* p = segs[i].buf->data() + segs[i].offset;
            frame.insert(frame.end(), p, p + segs[i].len);
            m_heap->release(segs[i].buf);
        }
        sent.push_back(frame);
        return {};
    }
    uint32_t poll(uint32_t max, net::FrameSink& sink) override {
        uint32_t n = 0;
        while (n < max && !queued.empty()) {
            const std::vector<uint8_t> f = queued.front();
            queued.erase(queued.begin());
            mem::Buffer* b = *m_heap->alloc(f.size() + kHeadroom);
            memcpy(b->data() + kHeadroom, f.data(), f.size());
            sink.receive(b, kHeadroom, static_cast<uint32_t>(f.size()), false);
            ++n;
        }
        return n;
    }
    static Result<void> send_lent(void* ctx, const net::TxSegment* segs, uint32_t n, uint64_t tag) {
        auto* d = static_cast<FakeDevice*>(ctx);
        if (d->refuse) {  // refused: handed back at once, as VirtioNic does
            CoreMesh::lent_done(d->mesh, tag);
            return Error::Full;
        }
        std::vector<uint8_t> frame;
        for (uint32_t i = 0; i < n; ++i) {
            const uint8_t* p = segs[i].buf->data() + segs[i].offset;
            frame.insert(frame.end(), p, p + segs[i].len);
            read_from.push_back(p);
        }
        d->sent.push_back(frame);
        d->at_device.push_back(tag);
        return {};
    }
    // The device has used every lent frame it holds.
    void complete() {
        for (uint64_t tag : at_device) CoreMesh::lent_done(mesh, tag);
        at_device.clear();
    }
    std::vector<std::vector<uint8_t>> queued;
    std::vector<std::vector<uint8_t>> sent;
    std::vector<uint64_t> at_device;
    static inline std::vector<const uint8_t*> read_from;
    CoreMesh* mesh = nullptr;
    bool refuse = false;

private:
    mem::DmaHeap* m_heap = nullptr;
};

// What a core's stack received.
class Sink final : public net::FrameSink {
public:
    explicit Sink(mem::DmaHeap& heap) : m_heap(heap) {}
    void receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool) override {
        frames.emplace_back(b->data() + offset, b->data() + offset + len);
        if (keep) held.push_back(b);
        else m_heap.release(b);
    }
    std::vector<std::vector<uint8_t>> frames;
    std::vector<mem::Buffer*> held;
    bool keep = false;

private:
    mem::DmaHeap& m_heap;
};

std::vector<uint8_t> udp_frame(uint16_t src_port, uint8_t tag, uint16_t dst_port = 5555) {
    std::vector<uint8_t> f(14 + 20 + 8 + 4, 0);
    f[12] = 0x08;  // IPv4
    f[14] = 0x45;
    f[16] = 0;
    f[17] = 32;  // total length
    f[22] = 64;
    f[23] = 17;  // UDP
    const uint8_t src[4] = {10, 0, 2, 2}, dst[4] = {10, 0, 2, 15};
    memcpy(&f[26], src, 4);
    memcpy(&f[30], dst, 4);
    f[34] = static_cast<uint8_t>(src_port >> 8);
    f[35] = static_cast<uint8_t>(src_port);
    f[36] = static_cast<uint8_t>(dst_port >> 8);
    f[37] = static_cast<uint8_t>(dst_port);
    f[38] = 0;
    f[39] = 12;
    f[42] = tag;
    return f;
}

std::vector<uint8_t> arp_reply() {
    std::vector<uint8_t> f(42, 0);
    f[12] = 0x08;
    f[13] = 0x06;
    f[20] = 0;
    f[21] = 2;  // reply
    return f;
}

uint32_t core_of(const CoreMesh& m, const std::vector<uint8_t>& f) {
    return m.steering().core_for_frame(f.data(), f.size());
}

struct Rig {
    Rig() {
        owner_heap = *mem::DmaHeap::create(owner_region, sizeof owner_region);
        other_heap = *mem::DmaHeap::create(other_region, sizeof other_region);
        mesh = std::make_unique<CoreMesh>();
        EXPECT_TRUE(mesh->init(2, dev.mac(), kHeadroom, &Rig::wake, this).ok());
        EXPECT_TRUE(mesh->track_lent(owner_region, sizeof owner_region).ok());
        dev.mesh = mesh.get();
        steering = std::make_unique<SteeringNic>(dev, *mesh, LentTx{&FakeDevice::send_lent, &dev});
        forwarded = std::make_unique<ForwardedNic>(*mesh, 1);
        EXPECT_TRUE(steering->start(owner_heap).ok());
        EXPECT_TRUE(forwarded->start(other_heap).ok());
    }
    static void wake(void* ctx, uint32_t, uint32_t to) { ++static_cast<Rig*>(ctx)->wakes[to]; }
    // A source port whose flow hashes to `core`.
    uint16_t port_for(uint32_t core) {
        for (uint16_t p = 1024;; ++p) {
            if (core_of(*mesh, udp_frame(p, 0)) == core) return p;
        }
    }

    alignas(64) unsigned char owner_region[1 << 20];
    alignas(64) unsigned char other_region[1 << 20];
    mem::DmaHeap owner_heap, other_heap;
    FakeDevice dev;
    std::unique_ptr<CoreMesh> mesh;
    std::unique_ptr<SteeringNic> steering;
    std::unique_ptr<ForwardedNic> forwarded;
    int wakes[kMeshCores] = {};
};

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
// the device, its frames are dropped and counted; nothing leaks.
TEST(CoreMesh, ACoreOverItsShareOfTheRingIsDroppedAndCounted) {
    auto rig = std::make_unique<Rig>();
    Sink sink0(rig->owner_heap), sink1(rig->other_heap);
    constexpr uint32_t kFrames = kLentTxCap / 2 + 8;  // two segments each
    for (uint32_t i = 0; i < kFrames; ++i) {
        mem::Buffer* h = *rig->other_heap.alloc(64);
        mem::Buffer* d = *rig->other_heap.alloc(64);
        const net::TxSegment segs[2] = {{h, kHeadroom, 14}, {d, 0, 30}};
        ASSERT_TRUE(rig->forwarded->transmit(segs, 2, nullptr).ok());
    }
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->dev.sent.size(), kLentTxCap / 2);
    EXPECT_EQ(rig->mesh->stats(0).tx_over_cap, 8u);
    rig->dev.complete();
    rig->forwarded->poll(16, sink1);
    EXPECT_EQ(rig->other_heap.live(), 0u);
    EXPECT_EQ(rig->mesh->tx_out(1), 0u);
    // With the ring its own again, the next frame goes out.
    mem::Buffer* b = *rig->other_heap.alloc(64);
    const net::TxSegment seg{b, kHeadroom, 40};
    ASSERT_TRUE(rig->forwarded->transmit(&seg, 1, nullptr).ok());
    rig->steering->poll(16, sink0);
    EXPECT_EQ(rig->dev.sent.size(), kLentTxCap / 2 + 1);
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
    EXPECT_EQ(rig->mesh->stats(1).tx_handed, s.tx_sent + s.tx_over_cap);
    EXPECT_EQ(rig->mesh->stats(1).tx_handed + rig->mesh->stats(1).tx_dropped, s.rx_handed);
    EXPECT_EQ(rig->mesh->stats(1).tx_returned, rig->mesh->stats(1).tx_handed);
    EXPECT_EQ(rig->dev.sent.size(), s.tx_sent);
    EXPECT_EQ(s.tx_copied_bytes, 0u);
    EXPECT_EQ(rig->owner_heap.live(), 0u);
    EXPECT_EQ(rig->other_heap.live(), 0u);
}

}  // namespace
}  // namespace ringlet::backend
