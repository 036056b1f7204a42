// restart() (drivers/virtio/recovery.cc) against the fake devices: a device
// that broke a ring (a used id that is no head, a length beyond the chain)
// or asked for a reset (DEVICE_NEEDS_RESET) is reset, its buffers taken
// back, and brought up again over the same memory; it then works, and what
// it stored before is still there. A multiqueue NIC comes back with every
// pair and its RSS steering programmed again, a multiqueue disk with every
// request queue.
#include <gtest/gtest.h>

#include <string.h>

#include <memory>
#include <vector>

#include "drivers/virtio/blk.h"
#include "drivers/virtio/net.h"
#include "drivers/virtio/net_control.h"
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

// A multiqueue disk's config: queue k over mem[k], driven by list[k].
BlkConfig mq_config(FakeDisk& disk, BlkDevice* const* list, const BlkQueueMemory* mem, uint16_t queues) {
    BlkConfig cfg;
    cfg.window = disk.window();
    cfg.ring = mem[0].ring;
    cfg.requests = mem[0].requests;
    cfg.queue_size = 16;
    cfg.queues = queues;
    cfg.more = list;
    cfg.more_memory = mem;
    return cfg;
}

TEST(VirtioRecovery, MultiqueueBlkRestartsEveryQueue) {
    DmaArena arena{2 << 20};
    FakeDisk disk{&arena, kBlkFeatures | blk_feature::kMq, 256, 3};
    std::unique_ptr<BlkDevice> devs[3];
    BlkDevice* list[3] = {};
    BlkQueueMemory mem[3];
    for (int k = 0; k < 3; ++k) {
        devs[k] = std::make_unique<BlkDevice>();
        list[k] = devs[k].get();
        mem[k] = BlkQueueMemory{arena.alloc(Virtqueue::ring_bytes(16), 4096), arena.alloc(BlkDevice::request_bytes(16), 64)};
    }
    const BlkConfig cfg = mq_config(disk, list, mem, 3);
    ASSERT_TRUE(devs[0]->init(cfg).ok());
    ASSERT_EQ(devs[0]->active_queues(), 3);
    DmaSpan buf = arena.alloc(4096, 4096);
    ASSERT_TRUE(devs[2]->read(0, DmaSpan{buf.va, buf.pa, 512}, 7).ok());  // queue 2 holds a request
    ASSERT_TRUE(devs[0]->reset().ok());
    EXPECT_EQ(devs[0]->restart().error(), Error::Busy);
    EXPECT_EQ(devs[1]->restart().error(), Error::InvalidArgument);  // a further queue never restarts the device
    EXPECT_EQ(*devs[2]->reclaim(), 7u);
    ASSERT_TRUE(devs[0]->restart().ok());
    EXPECT_EQ(devs[0]->active_queues(), 3);
    for (uint16_t k = 0; k < 3; ++k) {
        EXPECT_EQ(devs[k]->queue_index(), k);
        ASSERT_TRUE(devs[k]->read(k, DmaSpan{buf.va, buf.pa, 512}, 20u + k).ok());
        disk.service();
        auto c = devs[k]->poll();
        ASSERT_TRUE(c.ok());
        EXPECT_EQ(c->cookie, 20u + k);
        EXPECT_EQ(c->status, Error::Ok);
        EXPECT_EQ(disk.requests_on[k], 1u);
    }
    for (const auto& e : disk.errors) ADD_FAILURE() << "device saw: " << e;
}

TEST(VirtioRecovery, MultiqueueBlkThatComesBackWithFewerQueuesIsGivenUp) {
    DmaArena arena{2 << 20};
    FakeDisk disk{&arena, kBlkFeatures | blk_feature::kMq, 256, 2};
    BlkDevice first, second;
    BlkDevice* list[2] = {&first, &second};
    BlkQueueMemory mem[2];
    for (auto& m : mem) m = BlkQueueMemory{arena.alloc(Virtqueue::ring_bytes(16), 4096), arena.alloc(BlkDevice::request_bytes(16), 64)};
    const BlkConfig cfg = mq_config(disk, list, mem, 2);
    ASSERT_TRUE(first.init(cfg).ok());
    ASSERT_TRUE(first.reset().ok());
    disk.device_features &= ~blk_feature::kMq;  // it would come back with one queue
    EXPECT_EQ(first.restart().error(), Error::Unsupported);
    EXPECT_NE(disk.status & status::kFailed, 0u);
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

// Four pairs with RSS over FakeNic; each pair keeps one RX buffer posted.
struct MqNic {
    static constexpr uint16_t kPairs = 4;
    static constexpr uint16_t kQueue = 8;
    static constexpr uint64_t kFeatures =
        kNetFeatures | net_feature::kMq | net_feature::kCtrlVq | net_feature::kRss;
    DmaArena arena{4 << 20};
    FakeNic nic{&arena, kFeatures, kPairs};
    std::unique_ptr<NetDevice> devs[kPairs];
    NetDevice* dev_ptrs[kPairs] = {};
    NetPairRings rings[kPairs] = {};
    uint8_t key[40] = {};
    uint16_t table[16] = {};
    std::unique_ptr<NetMultiQueue> mq;
    NetConfig cfg;

    MqNic() {
        nic.auto_service = true;
        for (uint16_t k = 0; k < kPairs; ++k) {
            devs[k] = std::make_unique<NetDevice>();
            dev_ptrs[k] = devs[k].get();
            rings[k].rx_ring = arena.alloc(Virtqueue::ring_bytes(kQueue), 4096);
            rings[k].tx_ring = arena.alloc(Virtqueue::ring_bytes(kQueue), 4096);
        }
        for (uint32_t i = 0; i < 40; ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
        for (uint32_t i = 0; i < 16; ++i) table[i] = static_cast<uint16_t>(i % kPairs);
        NetMultiQueue::Config mc;
        mc.pairs = kPairs;
        mc.devices = dev_ptrs;
        mc.rings = rings;
        mc.control_ring = arena.alloc(NetMultiQueue::control_ring_bytes(), 4096);
        mc.control_buffer = arena.alloc(NetMultiQueue::kControlBufferBytes);
        mc.rss = RssSettings{key, 40, table, 16};
        mq = std::make_unique<NetMultiQueue>(mc);
        cfg.window = nic.window();
        cfg.rx_ring = rings[0].rx_ring;
        cfg.tx_ring = rings[0].tx_ring;
        cfg.queue_size = kQueue;
        cfg.multiqueue = mq.get();
    }
    // A frame through pair k and back on it (the fake loops it on its pair).
    void round_trip(uint16_t k, uint8_t v) {
        NetDevice& d = *devs[k];
        DmaSpan rx = arena.alloc(kBuf), tx = arena.alloc(kBuf);
        ASSERT_TRUE(d.post_rx(RxBuffer{rx.va, rx.pa, kBuf, 70u + k}).ok());
        ASSERT_TRUE(d.kick_rx().ok());
        memset(tx.va + 64, v, 60);
        ASSERT_TRUE(d.transmit_one(TxSegment{tx.va + 64, tx.pa + 64, 60}, 90u + k).ok());
        ASSERT_EQ(*d.poll_tx(), 90u + k);
        auto f = d.poll_rx();
        ASSERT_TRUE(f.ok()) << error_name(f.error());
        EXPECT_EQ(f->cookie, 70u + k);
        EXPECT_EQ(f->data[59], v);
        EXPECT_EQ(nic.sent_pair.back(), k);
    }
};

TEST(VirtioRecovery, MultiqueueNetRestartsEveryPairAndReprogramsRss) {
    MqNic m;
    ASSERT_TRUE(m.devs[0]->init(m.cfg).ok());
    ASSERT_EQ(m.mq->active_pairs(), MqNic::kPairs);
    ASSERT_EQ(m.nic.commands.size(), 1u);
    const std::vector<uint8_t> rss_command = m.nic.commands[0];
    // A buffer posted on every pair; pair 2's device then returns an id
    // that is no head.
    std::vector<DmaSpan> posted;
    for (uint16_t k = 0; k < MqNic::kPairs; ++k) {
        posted.push_back(m.arena.alloc(kBuf));
        ASSERT_TRUE(m.devs[k]->post_rx(RxBuffer{posted[k].va, posted[k].pa, kBuf, 10u + k}).ok());
        ASSERT_TRUE(m.devs[k]->kick_rx().ok());
    }
    m.nic.write_used_elem(4, 0, 5, 0);
    m.nic.set_used_idx(4, 1);
    EXPECT_EQ(m.devs[2]->poll_rx().error(), Error::BadFormat);
    ASSERT_TRUE(m.devs[0]->reset().ok());
    // Refused while any pair still holds a buffer; nothing was changed.
    EXPECT_EQ(m.devs[0]->restart().error(), Error::Busy);
    EXPECT_EQ(m.devs[1]->restart().error(), Error::InvalidArgument);  // a secondary pair never restarts the device
    for (uint16_t k = 0; k < MqNic::kPairs; ++k) {
        EXPECT_EQ(*m.devs[k]->reclaim_rx(), 10u + k);
        EXPECT_EQ(m.devs[k]->reclaim_rx().error(), Error::Empty);
    }
    EXPECT_EQ(m.nic.active_pairs, 1);  // the reset forgot the pairs and the steering
    EXPECT_FALSE(m.nic.rss_on);
    ASSERT_TRUE(m.devs[0]->restart().ok());
    EXPECT_EQ(m.mq->active_pairs(), MqNic::kPairs);
    EXPECT_TRUE(m.mq->rss_enabled());
    // The control queue saw the same RSS_CONFIG again; the device steers as before.
    ASSERT_EQ(m.nic.commands.size(), 2u);
    EXPECT_EQ(m.nic.commands[1], rss_command);
    EXPECT_TRUE(m.nic.rss_on);
    EXPECT_EQ(m.nic.active_pairs, MqNic::kPairs);
    EXPECT_EQ(m.nic.rss_table, std::vector<uint16_t>(m.table, m.table + 16));
    for (uint16_t k = 0; k < MqNic::kPairs; ++k) {
        EXPECT_EQ(m.devs[k]->poll_rx().error(), Error::Empty) << "pair " << k << " starts empty";
        m.round_trip(k, static_cast<uint8_t>(0x40 + k));
    }
    m.nic.errors.clear();  // the device was told to break the rules
}

TEST(VirtioRecovery, MultiqueueNetThatComesBackWithoutRssIsGivenUp) {
    MqNic m;
    ASSERT_TRUE(m.devs[0]->init(m.cfg).ok());
    ASSERT_TRUE(m.devs[0]->reset().ok());
    m.nic.refuse_commands = true;  // RSS_CONFIG refused: it would stay on one pair
    EXPECT_EQ(m.devs[0]->restart().error(), Error::Unsupported);
    EXPECT_NE(m.nic.status & status::kFailed, 0u);
    for (const auto& e : m.nic.errors) ADD_FAILURE() << "device saw: " << e;
}

}  // namespace
}  // namespace ringlet::virtio
