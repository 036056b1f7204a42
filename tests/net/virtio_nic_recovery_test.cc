// A multiqueue NIC's coordinated reset (net/virtio_nic_recovery.h): four
// VirtioNics, one per queue pair and "core" (each with its own DMA heap),
// over a FakeNic with four pairs, RSS and a control queue. The cores are
// polled in turn on one thread, so every interleaving a test makes is
// exact: a fault on one pair stops every core's pair, the device is reset
// once, every pair's buffers go back to their own core's heap, RSS is
// programmed again through the control queue, and each core's traffic then
// flows on its own pair; at most kMaxResets times. A core that has not
// started its NIC is not waited for, and one starting mid-reset waits.
#include <gtest/gtest.h>

#include <string.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "drivers/virtio/net_control.h"
#include "net/lwip/sys_glue.h"
#include "net/virtio_nic.h"
#include "tests/drivers/virtio/fake_device.h"
#include "tests/net/holding_sink.h"

namespace ringlet::net {
namespace {

using virtio::test::DmaArena;
using virtio::test::FakeNic;

constexpr uint32_t kCores = 4;
constexpr uint16_t kQueue = 16;
constexpr uint32_t kHeapBytes = 1 << 20;
constexpr uint64_t kFeatures = virtio::feature::kVersion1 | virtio::feature::kEventIdx |
                               virtio::net_feature::kMac | virtio::net_feature::kMq |
                               virtio::net_feature::kCtrlVq | virtio::net_feature::kRss;

std::vector<std::string> g_lines;
void capture(const char* line) { g_lines.emplace_back(line); }

std::vector<std::pair<uint32_t, uint32_t>> g_wakes;
void record_wake(void*, uint32_t from, uint32_t to) { g_wakes.emplace_back(from, to); }

using test::HoldingSink;

struct Core {
    virtio::NetDevice dev;
    mem::DmaHeap heap;
    std::unique_ptr<VirtioNic> nic;
    HoldingSink sink;
};

struct MqFixture {
    DmaArena arena{16 << 20};
    FakeNic model{&arena, kFeatures, kCores};
    std::unique_ptr<Core> cores[kCores];
    virtio::NetDevice* devs[kCores] = {};
    virtio::NetPairRings rings[kCores] = {};
    uint8_t key[40] = {};
    uint16_t table[32] = {};
    std::unique_ptr<virtio::NetMultiQueue> mq;
    MqRecovery group{kCores, &record_wake, nullptr};

    // Cores [0, started) start their NIC now; start(k) the others later.
    explicit MqFixture(uint32_t started = kCores) {
        g_lines.clear();
        g_wakes.clear();
        set_report_hook(capture);
        model.loopback = false;
        model.auto_service = true;  // control commands are answered within the doorbell write
        for (uint32_t i = 0; i < 40; ++i) key[i] = static_cast<uint8_t>(3 * i + 5);
        for (uint32_t i = 0; i < 32; ++i) table[i] = static_cast<uint16_t>(i % kCores);
        for (uint32_t k = 0; k < kCores; ++k) {
            cores[k] = std::make_unique<Core>();
            devs[k] = &cores[k]->dev;
            rings[k].rx_ring = arena.alloc(virtio::Virtqueue::ring_bytes(kQueue), 4096);
            rings[k].tx_ring = arena.alloc(virtio::Virtqueue::ring_bytes(kQueue), 4096);
        }
        virtio::NetMultiQueue::Config mc;
        mc.pairs = kCores;
        mc.devices = devs;
        mc.rings = rings;
        mc.control_ring = arena.alloc(virtio::NetMultiQueue::control_ring_bytes(), 4096);
        mc.control_buffer = arena.alloc(virtio::NetMultiQueue::kControlBufferBytes);
        mc.rss = virtio::RssSettings{key, 40, table, 32};
        mq = std::make_unique<virtio::NetMultiQueue>(mc);
        virtio::NetConfig cfg;
        cfg.window = model.window();
        cfg.rx_ring = rings[0].rx_ring;
        cfg.tx_ring = rings[0].tx_ring;
        cfg.queue_size = kQueue;
        cfg.checksum_offload = false;
        cfg.multiqueue = mq.get();
        EXPECT_TRUE(devs[0]->init(cfg).ok());
        EXPECT_EQ(mq->active_pairs(), kCores);
        EXPECT_TRUE(mq->rss_enabled());
        for (uint32_t k = 0; k < kCores; ++k) {
            Core& c = *cores[k];
            virtio::DmaSpan region = arena.alloc(kHeapBytes, 4096);
            auto h = mem::DmaHeap::create(region.va, region.len);
            EXPECT_TRUE(h.ok());
            c.heap = *h;
            c.nic = std::make_unique<VirtioNic>(c.dev, region.va, region.pa, region.len);
            c.nic->join_recovery(group, k);
            if (k < started) start(k);
        }
    }
    void start(uint32_t k) { EXPECT_TRUE(cores[k]->nic->start(cores[k]->heap).ok()); }
    ~MqFixture() {
        for (auto& c : cores) {
            for (auto& h : c->sink.held) c->heap.release(h.buf);
        }
        set_report_hook(nullptr);
    }
    VirtioNic& nic(uint32_t k) { return *cores[k]->nic; }
    uint32_t poll(uint32_t k) { return nic(k).poll(64, cores[k]->sink); }
    // Every core polls, in `order`, until a round changes nothing that a
    // poll could change (bounded: the protocol needs three rounds).
    void settle(std::vector<uint32_t> order = {0, 1, 2, 3}) {
        for (int round = 0; round < 6; ++round) {
            for (uint32_t k : order) poll(k);
        }
    }
    // A 60-byte frame of `v` from core k (as its stack would send it).
    Result<void> send(uint32_t k, uint8_t v) {
        Core& c = *cores[k];
        auto b = c.heap.alloc(128);
        EXPECT_TRUE(b.ok());
        memset((*b)->data() + 12, v, 60);
        TxSegment seg{*b, 12, 60};
        return c.nic->transmit(&seg, 1, nullptr);
    }
    // The device steers a frame of `v` to pair k; core k receives it.
    void expect_receives(uint32_t k, uint8_t v) {
        model.inject_on(static_cast<uint16_t>(k), std::vector<uint8_t>(60, v));
        model.service();
        Core& c = *cores[k];
        const size_t before = c.sink.held.size();
        ASSERT_EQ(poll(k), 1u) << "core " << k;
        ASSERT_EQ(c.sink.held.size(), before + 1);
        const auto h = c.sink.held.back();
        EXPECT_EQ(h.len, 60u);
        EXPECT_EQ(h.buf->data()[h.offset + 59], v);
        c.heap.release(h.buf);
        c.sink.held.pop_back();
    }
    // Core k sends, the device puts it on the wire from pair k.
    void expect_sends(uint32_t k, uint8_t v) {
        const size_t before = model.sent.size();
        ASSERT_TRUE(send(k, v).ok()) << "core " << k;
        model.service();
        ASSERT_EQ(model.sent.size(), before + 1);
        EXPECT_EQ(model.sent_pair.back(), k);
        EXPECT_EQ(model.sent.back()[59], v);
        poll(k);  // reaps the completion
    }
    // The device returns a used index on pair k's RX queue that moved
    // further than anything it was given; core k's next poll sees it.
    void break_pair(uint32_t k) {
        const uint32_t q = 2 * k;
        model.set_used_idx(q, static_cast<uint16_t>(model.used_idx(q) + kQueue + 1));
    }
    bool wakes_include(uint32_t from, uint32_t to) const {
        for (auto w : g_wakes) {
            if (w.first == from && w.second == to) return true;
        }
        return false;
    }
};

TEST(VirtioNicRecovery, MultiqueueBadUsedIndexOnPairTwoResetsEveryPair) {
    MqFixture f;
    ASSERT_EQ(f.model.commands.size(), 1u);
    const std::vector<uint8_t> rss_command = f.model.commands[0];
    for (uint32_t k = 0; k < kCores; ++k) f.expect_receives(k, static_cast<uint8_t>(0x10 + k));
    // Core 1's app keeps a received buffer across the reset.
    f.model.inject_on(1, std::vector<uint8_t>(60, 0xab));
    f.model.service();
    ASSERT_EQ(f.poll(1), 1u);
    const auto kept = f.cores[1]->sink.held[0];
    // Every core has a frame the device holds (not yet sent).
    f.model.auto_service = false;
    for (uint32_t k = 0; k < kCores; ++k) ASSERT_TRUE(f.send(k, static_cast<uint8_t>(0x20 + k)).ok());
    f.model.auto_service = true;
    const size_t sent_before = f.model.sent.size();

    f.break_pair(2);
    EXPECT_EQ(f.poll(2), 0u);  // core 2 stops its pair and tells core 0
    EXPECT_TRUE(f.wakes_include(2, 0));
    EXPECT_EQ(f.send(2, 1).error(), Error::IoError);  // EIO to a push on core 2
    EXPECT_TRUE(g_lines.empty());                     // core 0 has not acted yet
    EXPECT_TRUE(f.nic(2).arm_interrupts());           // core 2 may sleep: it waits for core 0
    EXPECT_FALSE(f.nic(0).arm_interrupts());          // core 0 has mail: it must poll
    const uint32_t resets = f.model.resets;
    EXPECT_EQ(f.poll(0), 0u);  // core 0 resets the device and asks every core for its buffers
    EXPECT_EQ(f.model.resets, resets + 1);
    EXPECT_EQ(f.model.status, 0u);
    ASSERT_EQ(g_lines.size(), 1u);
    EXPECT_EQ(g_lines[0], "virtio-net: multiqueue device misbehaved, resetting every queue pair (reset 1 of 8)");
    for (uint32_t k = 1; k < kCores; ++k) EXPECT_TRUE(f.wakes_include(0, k)) << k;
    // Until the device is back, every core's transmit fails (EIO), and
    // the one that has not looked at its mail yet must poll, not sleep.
    EXPECT_EQ(f.send(0, 1).error(), Error::IoError);
    EXPECT_FALSE(f.nic(3).arm_interrupts());
    for (uint32_t k = 1; k < kCores; ++k) {
        EXPECT_EQ(f.poll(k), 0u);
        EXPECT_EQ(f.send(k, 1).error(), Error::IoError) << k;
        EXPECT_EQ(f.nic(k).rx_posted(), 0u);  // its buffers are back in its heap
    }
    EXPECT_EQ(f.model.commands.size(), 1u);  // not restarted before every core answered
    EXPECT_EQ(f.poll(0), 0u);  // restarted; the others still re-arm on their next poll
    // The control queue saw RSS_CONFIG again, byte for byte.
    ASSERT_EQ(f.model.commands.size(), 2u);
    EXPECT_EQ(f.model.commands[1], rss_command);
    EXPECT_TRUE(f.model.rss_on);
    EXPECT_EQ(f.model.active_pairs, kCores);
    EXPECT_EQ(f.model.rss_table, std::vector<uint16_t>(f.table, f.table + 32));
    f.settle();
    // No frame that was in flight went out; each core's ring is full again
    // and its heap holds only its ring (and what its app keeps).
    EXPECT_EQ(f.model.sent.size(), sent_before);
    for (uint32_t k = 0; k < kCores; ++k) {
        EXPECT_FALSE(f.nic(k).reset_pending()) << k;
        EXPECT_FALSE(f.nic(k).broken()) << k;
        EXPECT_EQ(f.nic(k).stats().resets, 1u) << k;
        EXPECT_EQ(f.nic(k).rx_posted(), kQueue) << k;
        EXPECT_EQ(f.cores[k]->heap.live(), kQueue + f.cores[k]->sink.held.size()) << k;
    }
    EXPECT_EQ(f.group.resets(), 1u);
    // Each core's traffic flows on its own pair again.
    for (uint32_t k = 0; k < kCores; ++k) {
        f.expect_receives(k, static_cast<uint8_t>(0x30 + k));
        f.expect_sends(k, static_cast<uint8_t>(0x40 + k));
    }
    for (uint32_t i = 0; i < 60; ++i) EXPECT_EQ(kept.buf->data()[kept.offset + i], 0xab);
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioNicRecovery, MultiqueueNeedsResetSeenByCoreZero) {
    MqFixture f;
    f.model.status |= virtio::status::kDeviceNeedsReset;
    f.model.raise_config_change();
    f.nic(0).on_interrupt();  // core 0 holds the device's interrupt line
    EXPECT_TRUE(f.nic(0).reset_pending());
    EXPECT_FALSE(f.nic(0).arm_interrupts());  // a reset to start: poll, do not sleep
    // The order the cores poll in does not matter.
    f.settle({3, 1, 2, 0});
    ASSERT_EQ(g_lines.size(), 1u);
    EXPECT_EQ(f.model.status & virtio::status::kDeviceNeedsReset, 0u);
    EXPECT_EQ(f.model.commands.size(), 2u);
    for (uint32_t k = 0; k < kCores; ++k) {
        f.expect_receives(k, static_cast<uint8_t>(k + 1));
        f.expect_sends(k, static_cast<uint8_t>(k + 5));
    }
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioNicRecovery, MultiqueueFaultsOnTwoPairsMakeOneReset) {
    MqFixture f;
    f.break_pair(1);
    f.break_pair(3);
    f.settle({1, 3, 0, 2});
    EXPECT_EQ(f.group.resets(), 1u);
    EXPECT_EQ(g_lines.size(), 1u);
    for (uint32_t k = 0; k < kCores; ++k) f.expect_receives(k, static_cast<uint8_t>(k + 9));
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioNicRecovery, MultiqueueGivesUpAfterTheBound) {
    MqFixture f;
    for (uint32_t i = 0; i < VirtioNic::kMaxResets; ++i) {
        f.break_pair(1 + i % (kCores - 1));
        f.settle();
        for (uint32_t k = 0; k < kCores; ++k) {
            ASSERT_FALSE(f.nic(k).broken()) << i;
            f.expect_receives(k, static_cast<uint8_t>(i));
        }
    }
    EXPECT_EQ(f.model.commands.size(), 1u + VirtioNic::kMaxResets);
    f.break_pair(2);
    f.settle();
    ASSERT_EQ(g_lines.size(), VirtioNic::kMaxResets + 1);
    EXPECT_EQ(g_lines.back(), "virtio-net: multiqueue device misbehaved again, giving it up (reset 9 of 8)");
    EXPECT_EQ(f.model.commands.size(), 1u + VirtioNic::kMaxResets);  // not brought up again
    for (uint32_t k = 0; k < kCores; ++k) {
        EXPECT_TRUE(f.nic(k).broken()) << k;
        EXPECT_EQ(f.send(k, 1).error(), Error::IoError) << k;
        EXPECT_EQ(f.poll(k), 0u);
        EXPECT_TRUE(f.nic(k).arm_interrupts());  // nothing to wait for: sleep
        EXPECT_EQ(f.cores[k]->heap.live(), f.cores[k]->sink.held.size()) << k;  // every ring buffer returned
    }
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioNicRecovery, MultiqueueDeviceThatComesBackWithoutRssIsGivenUp) {
    MqFixture f;
    f.break_pair(2);
    f.model.refuse_commands = true;  // after the reset it would stay on one pair
    f.settle();
    ASSERT_EQ(g_lines.size(), 2u);
    EXPECT_EQ(g_lines[1], "virtio-net: the multiqueue device did not come back as it was; given up");
    for (uint32_t k = 0; k < kCores; ++k) {
        EXPECT_TRUE(f.nic(k).broken()) << k;
        EXPECT_EQ(f.cores[k]->heap.live(), 0u) << k;
    }
    EXPECT_NE(f.model.status & virtio::status::kFailed, 0u);
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioNicRecovery, MultiqueueCoreThatHasNotStartedIsNotWaitedFor) {
    MqFixture f(3);  // core 3 has not opened the network yet
    f.break_pair(1);
    f.settle({0, 1, 2});
    EXPECT_EQ(f.group.resets(), 1u);
    EXPECT_FALSE(f.nic(0).reset_pending());  // done without core 3 ever polling
    for (uint32_t k = 0; k < 3; ++k) f.expect_receives(k, static_cast<uint8_t>(k + 1));
    f.start(3);  // after the reset: joins at once, its pair set up again
    EXPECT_FALSE(f.nic(3).reset_pending());
    EXPECT_EQ(f.nic(3).rx_posted(), kQueue);
    f.expect_receives(3, 4);
    f.expect_sends(3, 5);
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioNicRecovery, MultiqueueCoreStartingDuringAResetWaitsForIt) {
    MqFixture f(3);
    f.break_pair(2);
    f.poll(2);
    f.poll(0);  // reset begun: core 3 is locked out
    f.start(3);  // ... so its NIC holds nothing until the reset is over
    EXPECT_TRUE(f.nic(3).reset_pending());
    EXPECT_EQ(f.nic(3).rx_posted(), 0u);
    EXPECT_EQ(f.cores[3]->heap.live(), 0u);
    EXPECT_TRUE(f.nic(3).arm_interrupts());  // may sleep: core 0 wakes it
    EXPECT_EQ(f.send(3, 1).error(), Error::IoError);
    EXPECT_EQ(f.poll(3), 0u);
    f.settle({1, 2, 0});
    EXPECT_TRUE(f.wakes_include(0, 3));
    f.poll(3);  // joins now
    EXPECT_FALSE(f.nic(3).reset_pending());
    EXPECT_EQ(f.nic(3).rx_posted(), kQueue);
    for (uint32_t k = 0; k < kCores; ++k) {
        f.expect_receives(k, static_cast<uint8_t>(k + 1));
        f.expect_sends(k, static_cast<uint8_t>(k + 7));
    }
    for (const auto& e : f.model.errors) ADD_FAILURE() << "device saw: " << e;
}

}  // namespace
}  // namespace ringlet::net
