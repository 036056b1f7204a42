// BlkMqRecovery (libos/backend/blk_recovery.h) over a four-queue FakeDisk:
// each "core" is a BlkDevice driving one request queue and a list of the
// requests it failed; the test plays every core's poll in turn. A bad
// used-ring entry on queue 2 resets the device once, every core's held
// request fails (EIO), every queue comes back and works, acknowledged data
// stays; the ninth fault gives the device up on every core.
#include <gtest/gtest.h>

#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "drivers/virtio/blk.h"
#include "libos/backend/blk_recovery.h"
#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::backend {
namespace {

using virtio::BlkConfig;
using virtio::BlkDevice;
using virtio::BlkQueueMemory;
using virtio::DmaSpan;
using virtio::Virtqueue;
using virtio::test::DmaArena;
using virtio::test::FakeDisk;
using State = BlkMqRecovery::State;

constexpr uint16_t kQueues = 4;
constexpr uint16_t kSize = 16;
constexpr uint32_t kMaxResets = 8;
constexpr uint64_t kFeatures = virtio::feature::kVersion1 | virtio::feature::kEventIdx |
                               virtio::blk_feature::kFlush | virtio::blk_feature::kMq;

std::vector<std::string> g_lines;
void record(const char* what, uint32_t reset, uint32_t max) {
    g_lines.push_back(std::string(what) + " " + std::to_string(reset) + "/" + std::to_string(max));
}

struct Core final : BlkRecoveryQueue {
    BlkDevice* dev = nullptr;
    std::vector<uint64_t> failed;
    BlkDevice& recovery_device() override { return *dev; }
    void recovery_fail(uint64_t cookie) override { failed.push_back(cookie); }
};

struct MqDisk {
    DmaArena arena{8 << 20};
    FakeDisk disk{&arena, kFeatures, 1024, kQueues};
    std::unique_ptr<BlkDevice> devs[kQueues];
    BlkDevice* more[kQueues] = {};
    BlkQueueMemory memory[kQueues] = {};
    BlkConfig cfg;
    DmaSpan buf = arena.alloc(64 * 1024, 4096);
    Core cores[kQueues];
    BlkMqRecovery rec;
    uint64_t next_cookie = 1;

    MqDisk() {
        g_lines.clear();
        for (uint16_t k = 0; k < kQueues; ++k) {
            devs[k] = std::make_unique<BlkDevice>();
            more[k] = devs[k].get();
            cores[k].dev = devs[k].get();
            memory[k].ring = arena.alloc(Virtqueue::ring_bytes(kSize), 4096);
            memory[k].requests = arena.alloc(BlkDevice::request_bytes(kSize), 64);
        }
        cfg.window = disk.window();
        cfg.ring = memory[0].ring;
        cfg.requests = memory[0].requests;
        cfg.queue_size = kSize;
        cfg.queues = kQueues;
        cfg.more = more;
        cfg.more_memory = memory;
        EXPECT_TRUE(devs[0]->init(cfg).ok());
        EXPECT_EQ(devs[0]->active_queues(), kQueues);
        rec.configure(kQueues, kMaxResets, nullptr, nullptr, &record);
        for (uint32_t k = 1; k < kQueues; ++k) EXPECT_TRUE(rec.join(k));
    }
    DmaSpan span(uint32_t k, uint32_t half) const {
        const uint32_t off = k * 8192 + half * 4096;
        return DmaSpan{buf.va + off, buf.pa + off, 512};
    }
    // Every core polls (its step) until nobody has anything left to do.
    void settle() {
        for (int round = 0; round < 6; ++round) {
            for (uint32_t k = 0; k < kQueues; ++k) (void)rec.step(k, cores[k]);
        }
    }
    // Core k writes sector `s` full of `v` and reads it back through its own queue.
    void write_read(uint32_t k, uint64_t s, uint8_t v) {
        ASSERT_EQ(rec.step(k, cores[k]), State::Running);
        memset(span(k, 0).va, v, 512);
        ASSERT_TRUE(devs[k]->write(s, span(k, 0), next_cookie).ok());
        disk.service();
        auto w = devs[k]->poll();
        ASSERT_TRUE(w.ok());
        EXPECT_EQ(w->cookie, next_cookie++);
        EXPECT_EQ(w->status, Error::Ok);
        memset(span(k, 1).va, 0, 512);
        ASSERT_TRUE(devs[k]->read(s, span(k, 1), next_cookie).ok());
        disk.service();
        auto r = devs[k]->poll();
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->cookie, next_cookie++);
        EXPECT_EQ(r->status, Error::Ok);
        EXPECT_EQ(span(k, 1).va[511], v) << "core " << k;
    }
    // A request held by the device on every queue (cookie 1000 + k), then
    // queue `bad` returns a used id that is no head: its poll sees the break.
    void hold_and_break(uint32_t bad) {
        for (uint32_t k = 0; k < kQueues; ++k) {
            ASSERT_TRUE(devs[k]->read(k, span(k, 1), 1000 + k).ok());
        }
        disk.write_used_elem(bad, disk.used_idx(bad), 1, 1);  // descriptor 1: a body, not a head
        disk.set_used_idx(bad, static_cast<uint16_t>(disk.used_idx(bad) + 1));
        ASSERT_EQ(devs[bad]->poll().error(), Error::BadFormat);
        rec.fault(bad);
    }
};

TEST(BlkMqRecovery, BadEntryOnQueueTwoResetsEveryQueueOnce) {
    MqDisk d;
    for (uint32_t k = 0; k < kQueues; ++k) d.write_read(k, 10 + k, static_cast<uint8_t>(0x10 + k));
    const uint32_t device_resets = d.disk.resets;
    d.hold_and_break(2);
    // Core 2 stops at once and tells core 0; nobody else knows yet.
    EXPECT_EQ(d.rec.step(2, d.cores[2]), State::Stopped);
    EXPECT_TRUE(d.rec.has_mail(0));
    EXPECT_FALSE(d.rec.may_sleep(0));
    // Core 0 resets the device and waits for the others' Reclaimed.
    EXPECT_EQ(d.rec.step(0, d.cores[0]), State::Stopped);
    EXPECT_EQ(d.rec.resets(), 1u);
    EXPECT_EQ(d.cores[0].failed, (std::vector<uint64_t>{1000}));
    for (uint32_t k = 1; k < kQueues; ++k) EXPECT_TRUE(d.rec.has_mail(k)) << "core " << k;
    d.settle();
    for (uint32_t k = 0; k < kQueues; ++k) {
        EXPECT_TRUE(d.rec.running(k)) << "core " << k;
        EXPECT_EQ(d.cores[k].failed, (std::vector<uint64_t>{1000 + k})) << "core " << k << ": EIO to the held request";
        EXPECT_TRUE(d.rec.may_sleep(k));
    }
    EXPECT_EQ(d.rec.resets(), 1u);
    EXPECT_GT(d.disk.resets, device_resets);
    EXPECT_EQ(d.devs[0]->active_queues(), kQueues);
    ASSERT_EQ(g_lines.size(), 1u);
    EXPECT_EQ(g_lines[0], "multiqueue device misbehaved, resetting every request queue 1/8");
    // What was acknowledged before is intact; later I/O works on every core.
    for (uint32_t k = 0; k < kQueues; ++k) {
        memset(d.span(k, 1).va, 0, 512);
        ASSERT_TRUE(d.devs[k]->read(10 + k, d.span(k, 1), 77).ok());
        d.disk.service();
        auto r = d.devs[k]->poll();
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->status, Error::Ok);
        EXPECT_EQ(d.span(k, 1).va[0], 0x10 + k) << "core " << k;
        d.write_read(k, 20 + k, static_cast<uint8_t>(0x20 + k));
        EXPECT_EQ(d.disk.requests_on[k], 5u) << "core " << k << " uses its own queue (2 before, 3 after)";
    }
    d.disk.errors.clear();  // the device was told to break the rules
}

TEST(BlkMqRecovery, NeedsResetOnCoreZero) {
    MqDisk d;
    d.write_read(3, 5, 0x55);
    ASSERT_TRUE(d.devs[3]->write(6, d.span(3, 0), 9).ok());  // held by a device about to give up
    d.disk.status |= virtio::status::kDeviceNeedsReset;
    d.rec.fault(0);
    EXPECT_FALSE(d.rec.may_sleep(0));
    d.settle();
    EXPECT_FALSE(d.devs[0]->transport().needs_reset());
    EXPECT_EQ(d.cores[3].failed, (std::vector<uint64_t>{9}));
    for (uint32_t k = 0; k < kQueues; ++k) d.write_read(k, 30 + k, static_cast<uint8_t>(k + 1));
    d.write_read(3, 5, 0x56);
    for (const auto& e : d.disk.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(BlkMqRecovery, NinthFaultGivesUpOnEveryCore) {
    MqDisk d;
    for (uint32_t i = 1; i <= kMaxResets; ++i) {
        d.hold_and_break(i % kQueues);
        d.settle();
        for (uint32_t k = 0; k < kQueues; ++k) {
            ASSERT_TRUE(d.rec.running(k)) << "reset " << i << " core " << k;
            EXPECT_EQ(d.cores[k].failed.size(), i);
        }
        d.write_read(i % kQueues, i, static_cast<uint8_t>(i));
    }
    EXPECT_EQ(d.rec.resets(), kMaxResets);
    d.hold_and_break(1);
    d.settle();
    EXPECT_EQ(d.rec.resets(), kMaxResets + 1);
    for (uint32_t k = 0; k < kQueues; ++k) {
        EXPECT_EQ(d.rec.step(k, d.cores[k]), State::Broken) << "core " << k;
        EXPECT_FALSE(d.rec.running(k));
        // The device was reset before it was given up: the held request failed.
        EXPECT_EQ(d.cores[k].failed.size(), kMaxResets + 1) << "core " << k;
        EXPECT_TRUE(d.rec.may_sleep(k));
    }
    ASSERT_EQ(g_lines.size(), kMaxResets + 1);
    EXPECT_EQ(g_lines.back(), "multiqueue device misbehaved again, giving it up 9/8");
    d.disk.errors.clear();
}

TEST(BlkMqRecovery, CoreThatHasNotJoinedIsNotWaitedFor) {
    MqDisk d;
    // A group where core 3 has not opened its queue.
    BlkMqRecovery fresh;
    fresh.configure(kQueues, kMaxResets, nullptr, nullptr, &record);
    ASSERT_TRUE(fresh.join(1));
    ASSERT_TRUE(fresh.join(2));
    ASSERT_TRUE(d.devs[1]->read(1, d.span(1, 1), 41).ok());
    fresh.fault(0);
    EXPECT_EQ(fresh.step(0, d.cores[0]), State::Stopped);
    // Core 3 opens during the reset: it waits, and may sleep until released.
    EXPECT_FALSE(fresh.join(3));
    EXPECT_TRUE(fresh.may_sleep(3));
    EXPECT_EQ(fresh.step(3, d.cores[3]), State::Stopped);
    for (int round = 0; round < 4; ++round) {
        for (uint32_t k = 0; k < 3; ++k) (void)fresh.step(k, d.cores[k]);
    }
    EXPECT_TRUE(fresh.running(0));
    EXPECT_EQ(d.cores[1].failed, (std::vector<uint64_t>{41}));
    EXPECT_FALSE(fresh.may_sleep(3));  // released: its next poll joins
    EXPECT_EQ(fresh.step(3, d.cores[3]), State::Running);
    d.disk.service();  // nothing was on its queue
    for (uint32_t k = 0; k < kQueues; ++k) {
        ASSERT_TRUE(d.devs[k]->read(40 + k, d.span(k, 1), 50 + k).ok());
        d.disk.service();
        auto r = d.devs[k]->poll();
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->status, Error::Ok);
    }
    for (const auto& e : d.disk.errors) ADD_FAILURE() << "device saw: " << e;
}

}  // namespace
}  // namespace ringlet::backend
