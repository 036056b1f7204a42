// restart() (drivers/virtio/recovery.cc) against the fake devices: a device
// that broke a ring (a used id that is no head, a length beyond the chain)
// or asked for a reset (DEVICE_NEEDS_RESET) is reset, its buffers taken
// back, and brought up again over the same memory; it then works, and what
// it stored before is still there.
#include <gtest/gtest.h>

#include <string.h>

#include <memory>
#include <vector>

#include "drivers/virtio/blk.h"
#include "drivers/virtio/net.h"
#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::virtio {
namespace {

using test::DmaArena;
using test::FakeDisk;
using test::FakeNic;

constexpr uint64_t kBlkFeatures = feature::kVersion1 | feature::kEventIdx | blk_feature::kFlush;
constexpr uint64_t kNetFeatures = feature::kVersion1 | feature::kEventIdx | net_feature::kMac | net_feature::kStatus;
constexpr uint32_t kBuf = 2048;

struct Disk {
    DmaArena arena{2 << 20};
    FakeDisk disk{&arena, kBlkFeatures, 256};
    std::unique_ptr<BlkDevice> dev = std::make_unique<BlkDevice>();
    BlkConfig cfg;
    DmaSpan buf = arena.alloc(64 * 1024, 4096);

    Disk() {
        cfg.window = disk.window();
        cfg.ring = arena.alloc(Virtqueue::ring_bytes(16), 4096);
        cfg.requests = arena.alloc(BlkDevice::request_bytes(16), 64);
        cfg.queue_size = 16;
    }
    DmaSpan span(uint32_t off, uint32_t len) const { return DmaSpan{buf.va + off, buf.pa + off, len}; }
    // Writes sector `s` full of `v` and waits for it (the disk serves at once).
    void write_sector(uint64_t s, uint8_t v) {
        memset(buf.va, v, 512);
        ASSERT_TRUE(dev->write(s, span(0, 512), 100 + s).ok());
        disk.service();
        auto c = dev->poll();
        ASSERT_TRUE(c.ok());
        EXPECT_EQ(c->status, Error::Ok);
    }
    uint8_t read_sector(uint64_t s) {
        memset(buf.va + 4096, 0, 512);
        EXPECT_TRUE(dev->read(s, span(4096, 512), 200 + s).ok());
        disk.service();
        auto c = dev->poll();
        EXPECT_TRUE(c.ok() && c->status == Error::Ok);
        return buf.va[4096 + 511];
    }
    // reset() and reclaim(): the cookies the device still held.
    std::vector<uint64_t> reset_and_reclaim() {
        EXPECT_TRUE(dev->reset().ok());
        std::vector<uint64_t> held;
        for (auto c = dev->reclaim(); c.ok(); c = dev->reclaim()) held.push_back(*c);
        return held;
    }
};

TEST(VirtioRecovery, BlkBadUsedIndexThenRestart) {
    Disk d;
    ASSERT_TRUE(d.dev->init(d.cfg).ok());
    d.write_sector(3, 0x33);
    // Two requests in flight; the device returns an id that is not a head.
    ASSERT_TRUE(d.dev->read(0, d.span(0, 512), 1).ok());
    ASSERT_TRUE(d.dev->write(5, d.span(512, 512), 2).ok());
    d.disk.write_used_elem(0, d.disk.used_idx(0), 1, 1);  // descriptor 1: a body, not a head
    d.disk.set_used_idx(0, static_cast<uint16_t>(d.disk.used_idx(0) + 1));
    EXPECT_EQ(d.dev->poll().error(), Error::BadFormat);
    // Refused while the device still holds requests.
    EXPECT_EQ(d.dev->restart().error(), Error::Busy);
    std::vector<uint64_t> held = d.reset_and_reclaim();
    EXPECT_EQ(held, (std::vector<uint64_t>{1, 2}));
    const uint32_t resets = d.disk.resets;
    ASSERT_TRUE(d.dev->restart().ok());
    EXPECT_GT(d.disk.resets, resets);  // the handshake began with a reset again
    EXPECT_NE(d.disk.status & status::kDriverOk, 0u);
    EXPECT_EQ(d.dev->capacity(), 256u);
    // Acknowledged data intact; new requests work.
    EXPECT_EQ(d.read_sector(3), 0x33);
    d.write_sector(5, 0x55);
    EXPECT_EQ(d.read_sector(5), 0x55);
    d.disk.errors.clear();  // the device was told to break the rules
}

TEST(VirtioRecovery, BlkBadLengthThenRestart) {
    Disk d;
    ASSERT_TRUE(d.dev->init(d.cfg).ok());
    d.write_sector(7, 0x77);
    d.disk.writes_len_plus_one = true;
    ASSERT_TRUE(d.dev->read(7, d.span(0, 512), 9).ok());
    d.disk.service();
    EXPECT_EQ(d.dev->poll().error(), Error::BadFormat);
    d.disk.writes_len_plus_one = false;
    EXPECT_EQ(d.reset_and_reclaim(), (std::vector<uint64_t>{9}));
    ASSERT_TRUE(d.dev->restart().ok());
    EXPECT_EQ(d.read_sector(7), 0x77);
    for (const auto& e : d.disk.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioRecovery, BlkNeedsResetThenRestart) {
    Disk d;
    ASSERT_TRUE(d.dev->init(d.cfg).ok());
    d.write_sector(1, 0x11);
    ASSERT_TRUE(d.dev->write(2, d.span(0, 512), 4).ok());  // held by a device about to give up
    d.disk.status |= status::kDeviceNeedsReset;
    d.disk.raise_config_change();
    EXPECT_NE(d.dev->ack_interrupt() & kInterruptConfigChange, 0u);
    EXPECT_TRUE(d.dev->transport().needs_reset());
    EXPECT_EQ(d.reset_and_reclaim(), (std::vector<uint64_t>{4}));
    ASSERT_TRUE(d.dev->restart().ok());
    EXPECT_FALSE(d.dev->transport().needs_reset());
    EXPECT_EQ(d.read_sector(1), 0x11);
    d.write_sector(2, 0x22);
    EXPECT_EQ(d.read_sector(2), 0x22);
    for (const auto& e : d.disk.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioRecovery, DeviceThatChangedItsFeaturesIsGivenUp) {
    Disk d;
    ASSERT_TRUE(d.dev->init(d.cfg).ok());
    EXPECT_TRUE(d.dev->can_flush());
    d.reset_and_reclaim();
    d.disk.device_features &= ~blk_feature::kFlush;
    EXPECT_EQ(d.dev->restart().error(), Error::Unsupported);
    EXPECT_NE(d.disk.status & status::kFailed, 0u);
    EXPECT_TRUE(d.dev->can_flush());  // what the layers above were told stays as it was
}

TEST(VirtioRecovery, MultiqueueBlkIsNotRestarted) {
    Disk d;
    BlkDevice more;
    d.cfg.queues = 2;
    BlkDevice* list[2] = {nullptr, &more};
    BlkQueueMemory mem[2];
    mem[1] = BlkQueueMemory{d.arena.alloc(Virtqueue::ring_bytes(16), 4096), d.arena.alloc(BlkDevice::request_bytes(16), 64)};
    d.cfg.more = list;
    d.cfg.more_memory = mem;
    ASSERT_TRUE(d.dev->init(d.cfg).ok());
    d.reset_and_reclaim();
    EXPECT_EQ(d.dev->restart().error(), Error::Unsupported);
    EXPECT_EQ(more.restart().error(), Error::InvalidArgument);  // a secondary queue never restarts the device
}

struct Nic {
    DmaArena arena{2 << 20};
    FakeNic nic{&arena, kNetFeatures};
    std::unique_ptr<NetDevice> dev = std::make_unique<NetDevice>();
    NetConfig cfg;
    std::vector<DmaSpan> bufs;

    Nic() {
        cfg.window = nic.window();
        cfg.rx_ring = arena.alloc(Virtqueue::ring_bytes(8), 4096);
        cfg.tx_ring = arena.alloc(Virtqueue::ring_bytes(8), 4096);
        cfg.queue_size = 8;
        for (int i = 0; i < 16; ++i) bufs.push_back(arena.alloc(kBuf));
    }
    void fill_rx(uint32_t first, uint32_t n) {
        for (uint32_t i = first; i < first + n; ++i) {
            ASSERT_TRUE(dev->post_rx(RxBuffer{bufs[i].va, bufs[i].pa, kBuf, i}).ok());
        }
        ASSERT_TRUE(dev->kick_rx().ok());
    }
    // Sends a 60-byte frame of `v` from buffer 15 and receives it back.
    void round_trip(uint8_t v) {
        uint8_t* p = bufs[15].va + 64;
        memset(p, v, 60);
        ASSERT_TRUE(dev->transmit_one(TxSegment{p, bufs[15].pa + 64, 60}, 77).ok());
        nic.service();
        auto sent = dev->poll_tx();
        ASSERT_TRUE(sent.ok());
        EXPECT_EQ(*sent, 77u);
        auto f = dev->poll_rx();
        ASSERT_TRUE(f.ok());
        ASSERT_EQ(f->len, 60u);
        EXPECT_EQ(f->data[59], v);
    }
};

TEST(VirtioRecovery, NetBadLengthThenRestart) {
    Nic n;
    ASSERT_TRUE(n.dev->init(n.cfg).ok());
    n.fill_rx(0, 4);
    n.round_trip(1);
    n.nic.writes_len_plus_one = true;
    n.nic.inject(std::vector<uint8_t>(kBuf - NetDevice::kHeaderBytes, 3));
    n.nic.service();
    EXPECT_EQ(n.dev->poll_rx().error(), Error::BadFormat);
    n.nic.writes_len_plus_one = false;
    EXPECT_EQ(n.dev->restart().error(), Error::Busy);  // three RX buffers are still the device's
    ASSERT_TRUE(n.dev->reset().ok());
    uint32_t reclaimed = 0;
    while (n.dev->reclaim_rx().ok()) ++reclaimed;
    EXPECT_EQ(reclaimed, 3u);  // 1 came back in the round trip, 1 with the lie
    ASSERT_TRUE(n.dev->restart().ok());
    EXPECT_EQ(n.dev->poll_rx().error(), Error::Empty);  // RX starts empty
    n.fill_rx(4, 4);
    n.round_trip(2);
    for (const auto& e : n.nic.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioRecovery, NetBadTxIdThenRestart) {
    Nic n;
    ASSERT_TRUE(n.dev->init(n.cfg).ok());
    n.fill_rx(0, 4);
    uint8_t* p = n.bufs[14].va + 64;
    memset(p, 9, 60);
    ASSERT_TRUE(n.dev->transmit_one(TxSegment{p, n.bufs[14].pa + 64, 60}, 5).ok());
    n.nic.write_used_elem(1, 0, 7, 0);  // id 7 was never given
    n.nic.set_used_idx(1, 1);
    EXPECT_EQ(n.dev->poll_tx().error(), Error::BadFormat);
    ASSERT_TRUE(n.dev->reset().ok());
    while (n.dev->reclaim_rx().ok()) {
    }
    EXPECT_EQ(*n.dev->reclaim_tx(), 5u);
    ASSERT_TRUE(n.dev->restart().ok());
    n.fill_rx(4, 4);
    n.round_trip(4);
    n.nic.errors.clear();  // the device was told to break the rules
}

TEST(VirtioRecovery, NetNeedsResetThenRestart) {
    Nic n;
    ASSERT_TRUE(n.dev->init(n.cfg).ok());
    n.fill_rx(0, 2);
    n.nic.status |= status::kDeviceNeedsReset;
    n.nic.raise_config_change();
    EXPECT_NE(n.dev->ack_interrupt() & kInterruptConfigChange, 0u);
    EXPECT_TRUE(n.dev->transport().needs_reset());
    ASSERT_TRUE(n.dev->reset().ok());
    while (n.dev->reclaim_rx().ok()) {
    }
    ASSERT_TRUE(n.dev->restart().ok());
    EXPECT_FALSE(n.dev->transport().needs_reset());
    n.fill_rx(2, 2);
    n.round_trip(5);
    for (const auto& e : n.nic.errors) ADD_FAILURE() << "device saw: " << e;
}

}  // namespace
}  // namespace ringlet::virtio
