// BlkDevice against a fake in-memory disk: bring-up and capacity, reads and
// writes with data checked, flush, range checks before submission, device
// errors mapped to Error values, garbage status bytes and a lying ring.
#include "drivers/virtio/blk.h"

#include <gtest/gtest.h>

#include <string.h>

#include <memory>
#include <vector>

#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::virtio {
namespace {

using test::DmaArena;
using test::FakeDisk;
using test::FakeNic;

constexpr uint64_t kFeatures = feature::kVersion1 | feature::kEventIdx | blk_feature::kFlush;
constexpr uint64_t kSectors = 2048;  // 1 MiB

struct BlkFixture {
    DmaArena arena{4 << 20};
    FakeDisk disk;
    std::unique_ptr<BlkDevice> dev = std::make_unique<BlkDevice>();
    BlkConfig cfg;
    DmaSpan buf;

    explicit BlkFixture(uint64_t features = kFeatures, uint16_t queue_size = 16, bool auto_service = true)
        : disk(&arena, features, kSectors) {
        disk.auto_service = auto_service;
        cfg.window = disk.window();
        cfg.ring = arena.alloc(Virtqueue::ring_bytes(queue_size), 4096);
        cfg.requests = arena.alloc(BlkDevice::request_bytes(queue_size), 64);
        cfg.queue_size = queue_size;
        buf = arena.alloc(256 * 1024, 4096);
    }
    ~BlkFixture() {
        for (const auto& e : disk.errors) ADD_FAILURE() << "device saw: " << e;
    }
    DmaSpan span(uint32_t off, uint32_t len) const { return DmaSpan{buf.va + off, buf.pa + off, len}; }
    BlkCompletion wait() {
        auto c = dev->poll();
        EXPECT_TRUE(c.ok()) << error_name(c.error());
        return c.ok() ? *c : BlkCompletion{0, Error::Empty};
    }
};

TEST(VirtioBlk, InitReadsCapacityAndFeatures) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    EXPECT_EQ(f.dev->capacity(), kSectors);
    EXPECT_TRUE(f.dev->can_flush());
    EXPECT_FALSE(f.dev->read_only());
    EXPECT_EQ(f.dev->queue_size(), 16);
    EXPECT_EQ(f.disk.driver_features, kFeatures);
    EXPECT_NE(f.disk.status & status::kDriverOk, 0u);
    EXPECT_EQ(f.dev->init(f.cfg).error(), Error::Busy);
}

TEST(VirtioBlk, CapacityIsReadAsOneValue) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    uint64_t big = 0x1'2345'6789ull;  // needs both 32-bit halves
    memcpy(f.disk.config.data(), &big, 8);
    f.disk.generation_churn = 3;  // the device is mid-update for a while
    auto cap = f.dev->refresh_capacity();
    ASSERT_TRUE(cap.ok());
    EXPECT_EQ(*cap, big);
    EXPECT_EQ(f.dev->capacity(), big);
}

TEST(VirtioBlk, RefusedDevices) {
    {
        BlkFixture f;
        FakeNic nic(&f.arena, feature::kVersion1);
        f.cfg.window = nic.window();
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::WrongType);
    }
    {
        BlkFixture f;
        f.disk.magic = 0;
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::BadFormat);
    }
    {
        BlkFixture f;
        f.disk.refuse_features_ok = true;
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::Unsupported);
        EXPECT_NE(f.disk.status & status::kFailed, 0u);
    }
    {
        BlkFixture f;
        f.disk.queues[0].num_max = 0;
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::NotFound);
        EXPECT_NE(f.disk.status & status::kFailed, 0u);
    }
    {
        BlkFixture f;
        f.cfg.requests.len = BlkDevice::request_bytes(16) - 1;
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::InvalidArgument);
        EXPECT_NE(f.disk.status & status::kFailed, 0u);
        EXPECT_EQ(f.disk.status & status::kDriverOk, 0u);
    }
}

TEST(VirtioBlk, WriteThenReadBack) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    for (uint32_t i = 0; i < 64 * 1024; ++i) f.buf.va[i] = static_cast<uint8_t>(i * 13 + 5);
    ASSERT_TRUE(f.dev->write(100, f.span(0, 64 * 1024), 1).ok());
    BlkCompletion c = f.wait();
    EXPECT_EQ(c.cookie, 1u);
    EXPECT_EQ(c.status, Error::Ok);
    EXPECT_EQ(memcmp(&f.disk.data[100 * 512], f.buf.va, 64 * 1024), 0);

    ASSERT_TRUE(f.dev->read(100, f.span(128 * 1024, 64 * 1024), 2).ok());
    c = f.wait();
    EXPECT_EQ(c.cookie, 2u);
    EXPECT_EQ(c.status, Error::Ok);
    EXPECT_EQ(memcmp(f.buf.va + 128 * 1024, f.buf.va, 64 * 1024), 0);
    EXPECT_EQ(f.dev->poll().error(), Error::Empty);
}

// Many requests through a small queue, several in flight at once: sector
// patterns written everywhere and read back, the rings wrap many times.
TEST(VirtioBlk, ManyRequestsWrapTheRing) {
    BlkFixture f(kFeatures, 8, false);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    uint32_t done = 0, submitted = 0;
    for (uint32_t round = 0; round < 300; ++round) {
        // Two writes in flight (3 descriptors each fit in 8), then service.
        for (uint32_t k = 0; k < 2; ++k) {
            uint64_t sector = (round * 2 + k) * 4 % (kSectors - 4);  // disjoint 4-sector runs
            uint8_t* p = f.buf.va + k * 2048;
            for (uint32_t b = 0; b < 2048; ++b) p[b] = static_cast<uint8_t>(sector + b);
            ASSERT_TRUE(f.dev->write(sector, f.span(k * 2048, 2048), sector).ok());
            ++submitted;
        }
        EXPECT_EQ(f.dev->write(0, f.span(0, 512), 0).error(), Error::Full);
        f.disk.service();
        for (uint32_t k = 0; k < 2; ++k) {
            BlkCompletion c = f.wait();
            EXPECT_EQ(c.status, Error::Ok);
            for (uint32_t b = 0; b < 2048; b += 97) {
                ASSERT_EQ(f.disk.data[c.cookie * 512 + b], static_cast<uint8_t>(c.cookie + b));
            }
            ++done;
        }
    }
    EXPECT_EQ(done, submitted);
    // Read a region back through the driver.
    ASSERT_TRUE(f.dev->read(0, f.span(8192, 4096), 7).ok());
    f.disk.service();
    EXPECT_EQ(f.wait().status, Error::Ok);
    EXPECT_EQ(memcmp(f.buf.va + 8192, f.disk.data.data(), 4096), 0);
}

TEST(VirtioBlk, RangeAndLengthCheckedBeforeSubmission) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    uint32_t notifies = f.disk.queues[0].notifies;
    EXPECT_EQ(f.dev->read(kSectors, f.span(0, 512), 1).error(), Error::OutOfRange);
    EXPECT_EQ(f.dev->read(kSectors - 1, f.span(0, 1024), 1).error(), Error::OutOfRange);
    EXPECT_EQ(f.dev->write(~0ull, f.span(0, 512), 1).error(), Error::OutOfRange);
    EXPECT_EQ(f.dev->write(~0ull - 1, f.span(0, 4096), 1).error(), Error::OutOfRange);  // sector + count overflows
    EXPECT_EQ(f.dev->read(0, f.span(0, 0), 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.dev->read(0, f.span(0, 100), 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.dev->write(0, DmaSpan{}, 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.disk.queues[0].notifies, notifies);
    EXPECT_EQ(f.disk.avail_idx(0), 0);  // nothing reached the device
    // The last sector itself is fine.
    ASSERT_TRUE(f.dev->read(kSectors - 1, f.span(0, 512), 2).ok());
    EXPECT_EQ(f.wait().status, Error::Ok);
}

TEST(VirtioBlk, FlushOnlyWhenOffered) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    ASSERT_TRUE(f.dev->flush(5).ok());
    BlkCompletion c = f.wait();
    EXPECT_EQ(c.cookie, 5u);
    EXPECT_EQ(c.status, Error::Ok);
    EXPECT_EQ(f.disk.flushes, 1u);

    BlkFixture g(feature::kVersion1);
    ASSERT_TRUE(g.dev->init(g.cfg).ok());
    EXPECT_FALSE(g.dev->can_flush());
    EXPECT_EQ(g.dev->flush(5).error(), Error::Unsupported);
    EXPECT_EQ(g.disk.flushes, 0u);
}

TEST(VirtioBlk, ReadOnlyDeviceRefusesWrites) {
    BlkFixture f(kFeatures | blk_feature::kRo);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    EXPECT_TRUE(f.dev->read_only());
    EXPECT_EQ(f.dev->write(0, f.span(0, 512), 1).error(), Error::Unsupported);
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 2).ok());
    EXPECT_EQ(f.wait().status, Error::Ok);
}

TEST(VirtioBlk, DeviceErrorsBecomeErrorValues) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.disk.ioerr_sector = 10;
    ASSERT_TRUE(f.dev->read(8, f.span(0, 2048), 1).ok());
    EXPECT_EQ(f.wait().status, Error::IoError);
    ASSERT_TRUE(f.dev->write(12, f.span(0, 512), 2).ok());  // does not touch sector 10
    EXPECT_EQ(f.wait().status, Error::Ok);
    f.disk.ioerr_sector = -1;

    f.disk.force_status = 2;  // VIRTIO_BLK_S_UNSUPP
    ASSERT_TRUE(f.dev->flush(3).ok());
    EXPECT_EQ(f.wait().status, Error::Unsupported);
    for (int garbage : {3, 7, 0x80, 0xff}) {
        f.disk.force_status = garbage;
        ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 4).ok());
        BlkCompletion c = f.wait();
        EXPECT_EQ(c.cookie, 4u);
        EXPECT_EQ(c.status, Error::BadFormat) << garbage;
    }
    f.disk.force_status = -1;
    // A device that claims to have written less than the data + status.
    f.disk.short_len = true;
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 5).ok());
    EXPECT_EQ(f.wait().status, Error::Truncated);
    ASSERT_TRUE(f.dev->write(0, f.span(0, 512), 6).ok());
    EXPECT_EQ(f.wait().status, Error::Truncated);  // len 0: not even the status byte
    f.disk.short_len = false;
    // The queue still works after all of that.
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 7).ok());
    EXPECT_EQ(f.wait().status, Error::Ok);
}

TEST(VirtioBlk, LyingRingIsBadFormat) {
    BlkFixture f(kFeatures, 16, false);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 1).ok());
    f.disk.write_used_elem(0, 0, 1, 1);  // descriptor 1 is the data buffer, not a head
    f.disk.set_used_idx(0, 1);
    EXPECT_EQ(f.dev->poll().error(), Error::BadFormat);
    EXPECT_EQ(f.dev->read(0, f.span(0, 512), 2).error(), Error::BadFormat);
    // Reset and take the buffer back.
    ASSERT_TRUE(f.dev->reset().ok());
    EXPECT_EQ(*f.dev->reclaim(), 1u);
    EXPECT_EQ(f.dev->reclaim().error(), Error::Empty);
}

TEST(VirtioBlk, LengthBeyondTheChainIsBadFormat) {
    BlkFixture f;
    f.disk.writes_len_plus_one = true;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 1).ok());
    EXPECT_EQ(f.dev->poll().error(), Error::BadFormat);
}

TEST(VirtioBlk, InterruptsOnlyWhenArmed) {
    BlkFixture f;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.dev->disable_interrupts();
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 1).ok());
    EXPECT_EQ(f.disk.interrupts, 0u);
    EXPECT_TRUE(f.dev->enable_interrupts());
    EXPECT_EQ(f.wait().status, Error::Ok);
    EXPECT_FALSE(f.dev->enable_interrupts());
    ASSERT_TRUE(f.dev->read(0, f.span(0, 512), 2).ok());
    EXPECT_EQ(f.disk.interrupts, 1u);
    EXPECT_EQ(f.dev->ack_interrupt(), kInterruptUsedBuffer);
    EXPECT_EQ(f.wait().cookie, 2u);
}

// Multiqueue (VIRTIO_BLK_F_MQ): one BlkDevice per request queue.
struct BlkMqFixture {
    static constexpr uint16_t kQueue = 16;
    DmaArena arena{8 << 20};
    FakeDisk disk;
    std::unique_ptr<BlkDevice> devs[4];
    BlkDevice* more[4] = {};
    BlkQueueMemory memory[4] = {};
    BlkConfig cfg;
    DmaSpan buf;

    BlkMqFixture(uint64_t features, uint16_t device_queues, uint16_t want)
        : disk(&arena, features, kSectors, device_queues) {
        disk.auto_service = true;
        for (int k = 0; k < 4; ++k) {
            devs[k] = std::make_unique<BlkDevice>();
            more[k] = devs[k].get();
            memory[k].ring = arena.alloc(Virtqueue::ring_bytes(kQueue), 4096);
            memory[k].requests = arena.alloc(BlkDevice::request_bytes(kQueue), 64);
        }
        cfg.window = disk.window();
        cfg.ring = memory[0].ring;
        cfg.requests = memory[0].requests;
        cfg.queue_size = kQueue;
        cfg.queues = want;
        cfg.more = more;
        cfg.more_memory = memory;
        buf = arena.alloc(64 * 1024, 4096);
    }
    ~BlkMqFixture() {
        for (const auto& e : disk.errors) ADD_FAILURE() << "device saw: " << e;
    }
    DmaSpan span(uint32_t k, uint32_t half) const {
        uint32_t off = k * 8192 + half * 4096;
        return DmaSpan{buf.va + off, buf.pa + off, 4096};
    }
    // Queue k writes its own region and reads it back: all four queues
    // have requests in flight at once, each completes on its own queue.
    void write_and_verify(uint16_t queues) {
        for (uint16_t k = 0; k < queues; ++k) {
            DmaSpan w = span(k, 0);
            for (uint32_t i = 0; i < w.len; ++i) w.va[i] = static_cast<uint8_t>(k * 17 + i * 3);
            ASSERT_TRUE(devs[k]->write(k * 64, w, 100 + k).ok());
        }
        for (uint16_t k = 0; k < queues; ++k) {
            auto c = devs[k]->poll();
            ASSERT_TRUE(c.ok());
            EXPECT_EQ(c->cookie, 100u + k);
            EXPECT_EQ(c->status, Error::Ok);
            ASSERT_TRUE(devs[k]->read(k * 64, span(k, 1), 200 + k).ok());
        }
        for (uint16_t k = 0; k < queues; ++k) {
            auto c = devs[k]->poll();
            ASSERT_TRUE(c.ok());
            EXPECT_EQ(c->cookie, 200u + k);
            EXPECT_EQ(0, memcmp(span(k, 0).va, span(k, 1).va, 4096)) << "queue " << k;
            EXPECT_EQ(disk.requests_on[k], 2u) << "queue " << k;
        }
    }
};

TEST(VirtioBlk, FourRequestQueuesEachUsedOnItsOwn) {
    BlkMqFixture f(kFeatures | blk_feature::kMq, 4, 4);
    ASSERT_TRUE(f.devs[0]->init(f.cfg).ok());
    EXPECT_NE(f.disk.driver_features & blk_feature::kMq, 0u);
    EXPECT_EQ(f.devs[0]->active_queues(), 4);
    EXPECT_EQ(f.devs[0]->device_queues(), 4);
    for (uint16_t k = 0; k < 4; ++k) {
        EXPECT_EQ(f.devs[k]->queue_index(), k);
        EXPECT_EQ(f.devs[k]->capacity(), kSectors);
        EXPECT_EQ(f.disk.queues[k].ready, 1u);
    }
    f.write_and_verify(4);
    EXPECT_EQ(f.devs[3]->flush(7).ok(), true);
    auto c = f.devs[3]->poll();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(f.disk.flushes, 1u);
}

// Completion routing with one interrupt line: the owner of the line looks
// at a sleeping core's queue with pending(), which sees only that queue's
// finished requests.
TEST(VirtioBlk, PendingSeesOnlyItsOwnQueuesCompletions) {
    BlkMqFixture f(kFeatures | blk_feature::kMq, 4, 4);
    ASSERT_TRUE(f.devs[0]->init(f.cfg).ok());
    for (uint16_t k = 0; k < 4; ++k) EXPECT_FALSE(f.devs[k]->pending());
    ASSERT_TRUE(f.devs[2]->write(2 * 64, f.span(2, 0), 42).ok());  // served at the notify
    for (uint16_t k = 0; k < 4; ++k) EXPECT_EQ(f.devs[k]->pending(), k == 2) << "queue " << k;
    auto c = f.devs[2]->poll();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->cookie, 42u);
    EXPECT_FALSE(f.devs[2]->pending());
    EXPECT_EQ(f.disk.requests_on[2], 1u);
    EXPECT_EQ(f.disk.requests_on[0], 0u);
}

TEST(VirtioBlk, FewerQueuesOfferedThanWanted) {
    BlkMqFixture f(kFeatures | blk_feature::kMq, 2, 4);
    ASSERT_TRUE(f.devs[0]->init(f.cfg).ok());
    EXPECT_EQ(f.devs[0]->active_queues(), 2);
    EXPECT_EQ(f.devs[2]->queue_index(), 0);  // never attached
    f.write_and_verify(2);
}

TEST(VirtioBlk, WithoutMqOneQueue) {
    BlkMqFixture f(kFeatures, 4, 4);  // num_queues says 4, but MQ is not offered
    ASSERT_TRUE(f.devs[0]->init(f.cfg).ok());
    EXPECT_EQ(f.disk.driver_features & blk_feature::kMq, 0u);
    EXPECT_EQ(f.devs[0]->active_queues(), 1);
    EXPECT_EQ(f.disk.queues[1].ready, 0u);
    f.write_and_verify(1);
}

TEST(VirtioBlk, OneQueueWantedDoesNotAskForMq) {
    BlkMqFixture f(kFeatures | blk_feature::kMq, 4, 1);
    ASSERT_TRUE(f.devs[0]->init(f.cfg).ok());
    EXPECT_EQ(f.disk.driver_features, kFeatures);
    EXPECT_EQ(f.devs[0]->active_queues(), 1);
    f.write_and_verify(1);
}

TEST(VirtioBlk, MqWithoutQueueObjectsIsRefused) {
    BlkMqFixture f(kFeatures | blk_feature::kMq, 4, 4);
    f.cfg.more = nullptr;
    EXPECT_EQ(f.devs[0]->init(f.cfg).error(), Error::InvalidArgument);
    EXPECT_NE(f.disk.status & status::kFailed, 0u);
}

}  // namespace
}  // namespace ringlet::virtio
