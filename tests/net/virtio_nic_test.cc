// VirtioNic over the virtio-net driver and a fake device that misbehaves
// (a used length beyond the buffer, a TX id never given, DEVICE_NEEDS_RESET):
// the NIC resets and restarts the device, refills RX and goes on, with a
// report line each time, at most kMaxResets times; an RX buffer the app
// holds across a reset keeps its bytes and is never re-posted under it.
#include "net/virtio_nic.h"

#include <gtest/gtest.h>

#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "net/lwip/sys_glue.h"
#include "tests/drivers/virtio/fake_device.h"
#include "tests/net/holding_sink.h"

namespace ringlet::net {
namespace {

using virtio::test::DmaArena;
using virtio::test::FakeNic;

constexpr uint64_t kFeatures = virtio::feature::kVersion1 | virtio::feature::kEventIdx | virtio::net_feature::kMac;
constexpr uint16_t kQueue = 16;
constexpr uint32_t kHeapBytes = 1 << 20;

std::vector<std::string> g_lines;
void capture(const char* line) { g_lines.emplace_back(line); }

using test::HoldingSink;

struct Fixture {
    DmaArena arena{4 << 20};
    FakeNic dev_model{&arena, kFeatures};
    virtio::NetDevice dev;
    virtio::DmaSpan region = arena.alloc(kHeapBytes, 4096);
    mem::DmaHeap heap;
    VirtioNic nic{dev, region.va, region.pa, region.len};
    HoldingSink sink;

    Fixture() {
        g_lines.clear();
        set_report_hook(capture);
        dev_model.loopback = false;
        virtio::NetConfig cfg;
        cfg.window = dev_model.window();
        cfg.rx_ring = arena.alloc(virtio::Virtqueue::ring_bytes(kQueue), 4096);
        cfg.tx_ring = arena.alloc(virtio::Virtqueue::ring_bytes(kQueue), 4096);
        cfg.queue_size = kQueue;
        cfg.checksum_offload = false;
        EXPECT_TRUE(dev.init(cfg).ok());
        auto h = mem::DmaHeap::create(region.va, region.len);
        EXPECT_TRUE(h.ok());
        heap = *h;
        EXPECT_TRUE(nic.start(heap).ok());
    }
    ~Fixture() {
        for (auto& h : sink.held) heap.release(h.buf);
        set_report_hook(nullptr);
    }
    // Delivers a 60-byte frame of `v` into the next RX buffer.
    void deliver(uint8_t v) {
        dev_model.inject(std::vector<uint8_t>(60, v));
        dev_model.service();
    }
    // A frame the stack would send: 60 bytes of `v` behind the headroom.
    Result<void> send(uint8_t v) {
        auto b = heap.alloc(128);
        EXPECT_TRUE(b.ok());
        memset((*b)->data() + 12, v, 60);
        TxSegment seg{*b, 12, 60};
        return nic.transmit(&seg, 1, nullptr);
    }
    // Makes the device lie about the next RX length and lets the NIC see it.
    void lie_on_rx() {
        // A frame that fills the RX buffer, so the extra byte lies.
        auto probe = heap.alloc(virtio::NetDevice::kMinRxBuffer);
        const uint32_t capacity = static_cast<uint32_t>((*probe)->capacity);
        heap.release(*probe);
        dev_model.writes_len_plus_one = true;
        dev_model.inject(std::vector<uint8_t>(capacity - virtio::NetDevice::kHeaderBytes, 1));
        dev_model.service();
        dev_model.writes_len_plus_one = false;
        nic.poll(64, sink);
        dev_model.errors.clear();  // the device was told to break the rules
    }
};

// Sent frames' buffers come back in batches: a poll leaves a few completed
// frames with the device's reference (their buffers stay live), a poll with
// half the ring in flight takes them all back, and so does the reap before
// a sleep (arm_interrupts), so a sleeping core holds none.
TEST(VirtioNicTx, CompletionsAreReapedInBatchesAndBeforeASleep) {
    Fixture f;
    const uint32_t base = f.heap.live();  // the RX ring's buffers
    ASSERT_TRUE(f.send(1).ok());
    ASSERT_TRUE(f.send(2).ok());
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), 2u);
    f.nic.poll(64, f.sink);
    EXPECT_EQ(f.heap.live(), base + 2);  // completed, not reaped yet
    EXPECT_TRUE(f.nic.arm_interrupts());  // nothing pending: may sleep
    EXPECT_EQ(f.heap.live(), base);       // reaped before the sleep
    f.nic.on_interrupt();
    // Half the ring (kQueue / 2 = 8 frames) in flight: a poll reaps.
    for (uint8_t v = 0; v < kQueue / 2; ++v) ASSERT_TRUE(f.send(v).ok());
    f.dev_model.service();
    f.nic.poll(64, f.sink);
    EXPECT_EQ(f.heap.live(), base);
    // A full ring of completed frames never refuses a send: it reaps first.
    for (uint8_t v = 0; v < 3 * kQueue; ++v) {
        ASSERT_TRUE(f.send(v).ok()) << int(v);
        f.dev_model.service();
    }
    EXPECT_LE(f.heap.live(), base + kQueue);
    EXPECT_EQ(f.nic.stats().tx_ring_full, 0u);
    f.dev_model.errors.clear();
}

// A sent frame's buffer of the RX class that nobody else holds (an echoed
// datagram the app freed) goes straight back onto the RX ring when its
// completion is reaped: no free-list trip, no refill allocation. One the
// app still holds is only released, and goes nowhere near the ring.
TEST(VirtioNicTx, SentRxClassBuffersGoBackOnTheRxRing) {
    Fixture f;
    const uint32_t base = f.heap.live();  // the RX ring's buffers
    for (uint8_t v = 0; v < 4; ++v) f.deliver(v);
    f.nic.poll(64, f.sink);
    ASSERT_EQ(f.sink.held.size(), 4u);
    EXPECT_EQ(f.nic.rx_posted(), kQueue - 4u);  // below a refill batch: not refilled yet
    // Echo three of them back from the buffers they arrived in; the app
    // keeps a reference to the fourth while it is sent.
    std::vector<mem::Buffer*> sent;
    for (auto& h : f.sink.held) {
        memset(h.buf->data() + h.offset, 0x5a, h.len);
        sent.push_back(h.buf);
    }
    f.heap.retain(sent[3]);  // the app's
    for (auto& h : f.sink.held) {
        TxSegment seg{h.buf, h.offset, h.len};
        ASSERT_TRUE(f.nic.transmit(&seg, 1, nullptr).ok());
    }
    f.sink.held.clear();
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), 4u);
    EXPECT_TRUE(f.nic.arm_interrupts());  // reaps before the sleep
    EXPECT_EQ(f.nic.stats().rx_recycled, 3u);
    EXPECT_EQ(f.nic.rx_posted(), kQueue - 1u);
    EXPECT_EQ(f.heap.live(), base);  // three on the ring again, the app's one
    EXPECT_EQ(sent[3]->refs, 1u);    // only the app's reference is left
    f.heap.release(sent[3]);
    EXPECT_EQ(f.heap.live(), base - 1u);
    // The recycled buffers receive again, whole: the next frames land in them.
    f.nic.on_interrupt();
    for (uint8_t v = 0; v < 3; ++v) f.deliver(static_cast<uint8_t>(0x10 + v));
    f.nic.poll(64, f.sink);
    ASSERT_EQ(f.sink.held.size(), 3u);
    for (auto& h : f.sink.held) {
        EXPECT_EQ(h.len, 60u);
        EXPECT_EQ(h.buf->refs, 1u);
    }
    f.dev_model.errors.clear();
}

TEST(VirtioNicRecovery, BadRxLengthResetsAndTheHeldBufferStaysValid) {
    Fixture f;
    f.deliver(0xab);
    ASSERT_EQ(f.nic.poll(64, f.sink), 1u);
    ASSERT_EQ(f.sink.held.size(), 1u);
    const auto held = f.sink.held[0];
    EXPECT_EQ(held.buf->data()[held.offset + 59], 0xab);
    f.lie_on_rx();
    EXPECT_EQ(f.nic.stats().resets, 1u);
    EXPECT_FALSE(f.nic.broken());
    EXPECT_FALSE(f.nic.reset_pending());
    ASSERT_EQ(g_lines.size(), 1u);
    EXPECT_EQ(g_lines[0], "virtio-net: device misbehaved, resetting it (reset 1 of 8)");
    // RX full again; the heap holds exactly the ring's buffers and the one
    // the app keeps (nothing leaked, nothing freed under the app).
    EXPECT_EQ(f.nic.rx_posted(), kQueue);
    EXPECT_EQ(f.heap.live(), kQueue + 1u);
    // Traffic flows; the held buffer's bytes never changed, and no frame
    // landed in it (it is not on the ring).
    for (uint8_t v = 1; v <= 2 * kQueue; ++v) {
        f.deliver(v);
        ASSERT_EQ(f.nic.poll(64, f.sink), 1u);
        EXPECT_NE(f.sink.held.back().buf, held.buf);
        EXPECT_EQ(f.sink.held.back().buf->data()[f.sink.held.back().offset], v);
        f.heap.release(f.sink.held.back().buf);
        f.sink.held.pop_back();
    }
    for (uint32_t i = 0; i < 60; ++i) EXPECT_EQ(held.buf->data()[held.offset + i], 0xab);
    ASSERT_TRUE(f.send(7).ok());
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), 1u);
    EXPECT_EQ(f.dev_model.sent[0][59], 7);
}

TEST(VirtioNicRecovery, BadTxIdResetsAndDropsWhatWasInFlight) {
    Fixture f;
    ASSERT_TRUE(f.send(1).ok());
    ASSERT_TRUE(f.send(2).ok());
    // The device returns an id it was never given.
    f.dev_model.write_used_elem(1, 0, kQueue - 1, 0);
    f.dev_model.set_used_idx(1, 1);
    // TX completions are reaped in batches: a poll with two frames in
    // flight leaves them; the reap before a sleep finds the lie, refuses
    // the sleep, and the next poll resets the device.
    f.nic.poll(64, f.sink);
    EXPECT_EQ(f.nic.stats().resets, 0u);
    EXPECT_FALSE(f.nic.arm_interrupts());
    EXPECT_TRUE(f.nic.reset_pending());
    f.nic.poll(64, f.sink);
    EXPECT_EQ(f.nic.stats().resets, 1u);
    EXPECT_EQ(f.heap.live(), kQueue);  // both TX frames' buffers released
    ASSERT_TRUE(f.send(3).ok());
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), 1u);
    EXPECT_EQ(f.dev_model.sent[0][0], 3);
    f.dev_model.errors.clear();
}

// The libOS over the NIC closes (its heap goes) and opens again with a new
// heap over the same region: stop() resets the device and forgets what it
// held, never touching the old heap; start() brings it up again and posts
// a full RX ring from the new heap, and frames flow both ways.
TEST(VirtioNicRecovery, StopThenStartOverAFreshHeapBringsTheDeviceUpAgain) {
    Fixture f;
    ASSERT_TRUE(f.send(1).ok());  // in flight when the libOS closes
    f.deliver(5);                 // received, never polled
    const uint32_t resets_before = f.dev_model.resets;
    ASSERT_TRUE(f.nic.stop().ok());
    EXPECT_GT(f.dev_model.resets, resets_before);
    EXPECT_EQ(f.nic.rx_posted(), 0u);
    EXPECT_TRUE(f.nic.stop().ok());  // twice is harmless
    // The old heap is gone: a new one over the same region starts empty.
    auto fresh = mem::DmaHeap::create(f.region.va, f.region.len);
    ASSERT_TRUE(fresh.ok());
    f.heap = *fresh;
    ASSERT_EQ(f.heap.live(), 0u);
    ASSERT_TRUE(f.nic.start(f.heap).ok());
    EXPECT_EQ(f.nic.rx_posted(), kQueue);
    EXPECT_EQ(f.heap.live(), kQueue);  // the new RX ring, from the new heap
    f.deliver(9);
    EXPECT_EQ(f.nic.poll(64, f.sink), 1u);
    ASSERT_EQ(f.sink.held.size(), 1u);
    EXPECT_EQ(f.sink.held[0].buf->data()[f.sink.held[0].offset], 9);
    const size_t sent_before = f.dev_model.sent.size();
    ASSERT_TRUE(f.send(3).ok());
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), sent_before + 1);
    EXPECT_EQ(f.dev_model.sent.back()[0], 3);
    f.dev_model.errors.clear();
}

TEST(VirtioNicRecovery, NeedsResetAtAnInterruptResetsOnTheNextPoll) {
    Fixture f;
    f.dev_model.status |= virtio::status::kDeviceNeedsReset;
    f.dev_model.raise_config_change();
    f.nic.on_interrupt();
    EXPECT_TRUE(f.nic.reset_pending());
    EXPECT_EQ(f.send(1).error(), Error::IoError);  // nothing goes to a device about to be reset
    EXPECT_EQ(f.heap.live(), kQueue);              // ... and the refused frame is not leaked
    f.nic.poll(64, f.sink);
    EXPECT_EQ(f.nic.stats().resets, 1u);
    EXPECT_EQ(f.dev_model.status & virtio::status::kDeviceNeedsReset, 0u);
    f.deliver(9);
    EXPECT_EQ(f.nic.poll(64, f.sink), 1u);
    // A config change that is not a reset request (a link change) is not one.
    f.dev_model.raise_config_change();
    f.nic.on_interrupt();
    EXPECT_FALSE(f.nic.reset_pending());
}

TEST(VirtioNicRecovery, GivesUpAfterTheBound) {
    Fixture f;
    for (uint32_t i = 0; i < VirtioNic::kMaxResets; ++i) {
        f.lie_on_rx();
        ASSERT_FALSE(f.nic.broken()) << i;
        f.deliver(5);
        ASSERT_EQ(f.nic.poll(64, f.sink), 1u) << "works after reset " << i + 1;
    }
    f.lie_on_rx();
    EXPECT_TRUE(f.nic.broken());
    EXPECT_EQ(g_lines.size(), VirtioNic::kMaxResets + 1);
    EXPECT_EQ(g_lines.back(), "virtio-net: device misbehaved again, giving it up (reset 9 of 8)");
    EXPECT_EQ(f.send(1).error(), Error::IoError);
    EXPECT_EQ(f.nic.poll(64, f.sink), 0u);
    // Every ring buffer went back to the heap; only the app's are live.
    EXPECT_EQ(f.heap.live(), f.sink.held.size());
}


// Issue 14's zero-copy TX hand-off (lend_tx): another core's frame goes out
// from that core's own region, and whatever happens to it - sent, refused,
// dropped by a reset - its buffers are never released into this heap: the
// frame goes back whole to the core that lent it, once.
// Another core's region and heap lent to f's NIC; `back` records the tags
// handed back, in order.
struct Lender {
    explicit Lender(Fixture& f)
        : region(f.arena.alloc(64 << 10, 4096)), heap(*mem::DmaHeap::create(region.va, region.len)) {
        f.nic.lend_tx(&region, 1, &Lender::record, &back);
    }
    static void record(void* ctx, uint64_t tag) { static_cast<std::vector<uint64_t>*>(ctx)->push_back(tag); }
    // A 60-byte frame of `v` behind 12 bytes of headroom, in this heap.
    mem::Buffer* frame(uint8_t v) {
        mem::Buffer* b = *heap.alloc(128);
        memset(b->data() + 12, v, 60);
        return b;
    }
    virtio::DmaSpan region;
    mem::DmaHeap heap;
    std::vector<uint64_t> back;
};

TEST(VirtioNicTx, LentFramesGoOutInPlaceAndBackWholeOnce) {
    Fixture f;
    Lender lender(f);
    mem::DmaHeap& other = lender.heap;
    std::vector<uint64_t>& back = lender.back;
    auto lent_frame = [&](uint8_t v) { return lender.frame(v); };
    mem::Buffer* b = lent_frame(5);
    const TxSegment seg{b, 12, 60};
    ASSERT_TRUE(f.nic.transmit_lent(&seg, 1, 101).ok());
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), 1u);
    EXPECT_EQ(f.dev_model.sent[0][0], 5);
    EXPECT_TRUE(f.nic.arm_interrupts());  // reaps
    f.nic.on_interrupt();
    EXPECT_EQ(back, std::vector<uint64_t>{101});
    EXPECT_EQ(b->refs, 1u);  // the lender's reference, untouched
    EXPECT_EQ(other.live(), 1u);
    // Only a lent frame may come from another region.
    other.retain(b);
    EXPECT_EQ(f.nic.transmit(&seg, 1, nullptr).error(), Error::BadAddress);
    EXPECT_EQ(b->refs, 1u);  // ... and that one was this heap's to drop
    // Refused (a frame too short for the device): back at once.
    const TxSegment tiny{b, 12, 4};
    EXPECT_FALSE(f.nic.transmit_lent(&tiny, 1, 102).ok());
    EXPECT_EQ(back, (std::vector<uint64_t>{101, 102}));
    // In flight when the device is reset: back with the reset, not released.
    mem::Buffer* c = lent_frame(6);
    const TxSegment two[2] = {{c, 12, 30}, {b, 12, 30}};
    ASSERT_TRUE(f.nic.transmit_lent(two, 2, 103).ok());
    f.nic.inject_fault();
    f.nic.poll(64, f.sink);
    EXPECT_EQ(f.nic.stats().resets, 1u);
    EXPECT_EQ(back, (std::vector<uint64_t>{101, 102, 103}));
    EXPECT_EQ(other.live(), 2u);
    EXPECT_EQ(b->refs, 1u);
    EXPECT_EQ(c->refs, 1u);
    f.dev_model.errors.clear();
}

// A lent frame the ring has no room for is not a refusal: Full, and the
// frame stays its lender's (no back(), no reference touched) so the lender
// can post it again once the device has used some - and then it goes.
TEST(VirtioNicTx, ALentFrameTheRingHasNoRoomForStaysTheLenders) {
    Fixture f;
    Lender lender(f);
    mem::DmaHeap& other = lender.heap;
    std::vector<uint64_t>& back = lender.back;
    std::vector<mem::Buffer*> frames;
    Result<void> r;
    uint64_t tag = 0;
    do {  // the device takes nothing meanwhile: the ring fills
        ASSERT_LT(tag, 64u);
        frames.push_back(lender.frame(static_cast<uint8_t>(tag)));
        const TxSegment seg{frames.back(), 12, 60};
        r = f.nic.transmit_lent(&seg, 1, ++tag);
    } while (r.ok());
    EXPECT_EQ(r.error(), Error::Full);
    EXPECT_TRUE(back.empty());
    EXPECT_EQ(frames.back()->refs, 1u);
    f.dev_model.service();  // the device uses every frame it had
    const TxSegment again{frames.back(), 12, 60};
    ASSERT_TRUE(f.nic.transmit_lent(&again, 1, tag).ok());
    f.dev_model.service();
    ASSERT_EQ(f.dev_model.sent.size(), frames.size());
    EXPECT_EQ(f.dev_model.sent.back()[0], static_cast<uint8_t>(tag - 1));
    EXPECT_TRUE(f.nic.arm_interrupts());  // reaps
    f.nic.on_interrupt();
    std::vector<uint64_t> all(tag);
    for (uint64_t t = 1; t <= tag; ++t) all[t - 1] = t;
    std::sort(back.begin(), back.end());
    EXPECT_EQ(back, all);  // each once, the retried one included
    EXPECT_EQ(other.live(), frames.size());  // never released by the NIC
    for (mem::Buffer* b : frames) other.release(b);
    f.dev_model.errors.clear();
}

}  // namespace
}  // namespace ringlet::net
