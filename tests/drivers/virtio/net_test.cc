// NetDevice against a fake NIC that loops transmitted frames back as
// received ones: bring-up, a thousand round trips with every byte checked,
// checksum offload, runts, interrupts, reclaim and a lying device.
#include "drivers/virtio/net.h"

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

constexpr uint64_t kAllNet = feature::kVersion1 | feature::kEventIdx | net_feature::kMac | net_feature::kStatus |
                             net_feature::kCsum | net_feature::kGuestCsum | net_feature::kMrgRxbuf;
constexpr uint32_t kBuf = 2048;
constexpr uint32_t kHeadroom = 64;

struct NetFixture {
    DmaArena arena{4 << 20};
    FakeNic nic;
    std::unique_ptr<NetDevice> dev = std::make_unique<NetDevice>();
    NetConfig cfg;
    std::vector<DmaSpan> rx_bufs;
    std::vector<DmaSpan> tx_bufs;

    explicit NetFixture(uint64_t features, uint16_t queue_size = 64) : nic(&arena, features) {
        cfg.window = nic.window();
        cfg.rx_ring = arena.alloc(Virtqueue::ring_bytes(queue_size), 4096);
        cfg.tx_ring = arena.alloc(Virtqueue::ring_bytes(queue_size), 4096);
        cfg.queue_size = queue_size;
        for (int i = 0; i < 64; ++i) rx_bufs.push_back(arena.alloc(kBuf));
        for (int i = 0; i < 64; ++i) tx_bufs.push_back(arena.alloc(kBuf));
    }
    ~NetFixture() {
        for (const auto& e : nic.errors) ADD_FAILURE() << "device saw: " << e;
    }
    void post(uint32_t i) {
        RxBuffer b{rx_bufs[i].va, rx_bufs[i].pa, kBuf, i};
        ASSERT_TRUE(dev->post_rx(b).ok());
    }
    void fill_rx(uint32_t n) {
        for (uint32_t i = 0; i < n; ++i) post(i);
        ASSERT_TRUE(dev->kick_rx().ok());
    }
    // A frame of `len` bytes in TX buffer i, after the headroom.
    TxSegment frame(uint32_t i, uint32_t len, uint8_t seed) {
        uint8_t* p = tx_bufs[i].va + kHeadroom;
        for (uint32_t k = 0; k < len; ++k) p[k] = static_cast<uint8_t>(seed + k * 7);
        return TxSegment{p, tx_bufs[i].pa + kHeadroom, len};
    }
};

TEST(VirtioNet, InitNegotiatesAndReadsConfig) {
    NetFixture f(kAllNet);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    EXPECT_TRUE(f.dev->has_mac());
    const uint8_t want[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    EXPECT_EQ(memcmp(f.dev->mac(), want, 6), 0);
    EXPECT_TRUE(f.dev->link_up());
    // MRG_RXBUF is offered but never taken: one frame per RX buffer.
    EXPECT_EQ(f.nic.driver_features, kAllNet & ~net_feature::kMrgRxbuf);
    EXPECT_EQ(f.dev->features(), f.nic.driver_features);
    EXPECT_NE(f.nic.status & status::kDriverOk, 0u);
    EXPECT_EQ(f.dev->rx_queue_size(), 64);
    EXPECT_EQ(f.dev->tx_queue_size(), 64);
    EXPECT_EQ(f.nic.queues[0].ready, 1u);
    EXPECT_EQ(f.nic.queues[1].ready, 1u);
    // The MAC's six bytes were read as six 8-bit accesses.
    EXPECT_EQ(std::count(f.nic.config_access_widths.begin(), f.nic.config_access_widths.end(), 1u), 6);
    EXPECT_EQ(f.dev->init(f.cfg).error(), Error::Busy);
}

TEST(VirtioNet, MinimalDeviceWithoutMacOrStatus) {
    NetFixture f(feature::kVersion1);
    f.nic.config[6] = 0;  // link "down", but STATUS is not offered so it is meaningless
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    EXPECT_FALSE(f.dev->has_mac());
    EXPECT_TRUE(f.dev->link_up());
    EXPECT_EQ(f.nic.driver_features, feature::kVersion1);
}

TEST(VirtioNet, LinkStatusAndConfigInterrupt) {
    NetFixture f(kAllNet);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.nic.config[6] = 0;
    f.nic.raise_config_change();
    EXPECT_EQ(f.dev->ack_interrupt() & kInterruptConfigChange, kInterruptConfigChange);
    EXPECT_FALSE(f.dev->link_up());
    EXPECT_EQ(f.nic.interrupt_status, 0u);
}

TEST(VirtioNet, RefusedDevices) {
    {
        NetFixture f(kAllNet);
        FakeDisk disk(&f.arena, feature::kVersion1, 8);
        f.cfg.window = disk.window();
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::WrongType);
        EXPECT_EQ(disk.status, 0u);
    }
    {
        NetFixture f(kAllNet);
        f.nic.version = 1;
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::Unsupported);
    }
    {
        NetFixture f(kAllNet & ~feature::kVersion1);
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::Unsupported);
        EXPECT_NE(f.nic.status & status::kFailed, 0u);
    }
    {
        NetFixture f(kAllNet);
        f.nic.queues[1].num_max = 0;  // no TX queue
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::NotFound);
        EXPECT_NE(f.nic.status & status::kFailed, 0u);
        EXPECT_EQ(f.nic.status & status::kDriverOk, 0u);
    }
    {
        NetFixture f(kAllNet);
        f.cfg.rx_ring.len = 100;  // too small for the ring
        EXPECT_EQ(f.dev->init(f.cfg).error(), Error::InvalidArgument);
        EXPECT_NE(f.nic.status & status::kFailed, 0u);
    }
}

TEST(VirtioNet, QueueSizeFollowsTheDevice) {
    NetFixture f(kAllNet);
    f.nic.queues[0].num_max = 100;  // not a power of two: we take 64
    f.nic.queues[1].num_max = 16;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    EXPECT_EQ(f.dev->rx_queue_size(), 64);
    EXPECT_EQ(f.dev->tx_queue_size(), 16);
}

TEST(VirtioNet, RxBufferChecks) {
    NetFixture f(kAllNet, 8);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    RxBuffer small{f.rx_bufs[0].va, f.rx_bufs[0].pa, NetDevice::kMinRxBuffer - 1, 0};
    EXPECT_EQ(f.dev->post_rx(small).error(), Error::InvalidArgument);
    for (uint32_t i = 0; i < 8; ++i) f.post(i);
    RxBuffer more{f.rx_bufs[8].va, f.rx_bufs[8].pa, kBuf, 8};
    EXPECT_EQ(f.dev->post_rx(more).error(), Error::Full);
    EXPECT_EQ(f.dev->poll_rx().error(), Error::Empty);
}

// A thousand frames of every size from 14 to 1514 bytes go out, come back
// through the RX ring, and are compared byte for byte; buffers cycle
// through both rings many times (the rings wrap).
void round_trips(uint64_t features) {
    NetFixture f(features, 16);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.dev->disable_interrupts();
    f.fill_rx(16);
    uint32_t tx_free = 16;  // TX buffers 0..15 rotate
    uint32_t next_tx = 0;
    for (uint32_t i = 0; i < 1000; ++i) {
        uint32_t len = 14 + (i * 97) % (NetDevice::kMaxFrame - 13);
        uint8_t seed = static_cast<uint8_t>(i);
        TxSegment s = f.frame(next_tx, len, seed);
        ASSERT_TRUE(f.dev->transmit(&s, 1, 1000 + next_tx).ok());
        next_tx = (next_tx + 1) % 16;
        --tx_free;
        f.nic.service();
        auto done = f.dev->poll_tx();
        ASSERT_TRUE(done.ok());
        EXPECT_EQ(*done, 1000 + (next_tx + 15) % 16);
        ++tx_free;
        auto rx = f.dev->poll_rx();
        ASSERT_TRUE(rx.ok()) << error_name(rx.error());
        ASSERT_EQ(rx->len, len);
        ASSERT_LT(rx->cookie, 16u);
        EXPECT_EQ(rx->buffer, f.rx_bufs[rx->cookie].va);
        EXPECT_EQ(rx->data, rx->buffer + NetDevice::kHeaderBytes);
        for (uint32_t k = 0; k < len; ++k) {
            ASSERT_EQ(rx->data[k], static_cast<uint8_t>(seed + k * 7)) << "frame " << i << " byte " << k;
        }
        // The TX header the device saw: no offload requested.
        NetHeader h;
        memcpy(&h, f.nic.sent_hdrs.back().data(), sizeof h);
        EXPECT_EQ(h.flags, 0);
        EXPECT_EQ(h.gso_type, 0);
        f.post(static_cast<uint32_t>(rx->cookie));
        ASSERT_TRUE(f.dev->kick_rx().ok());
    }
    EXPECT_EQ(f.nic.sent.size(), 1000u);
    EXPECT_EQ(tx_free, 16u);
    EXPECT_EQ(f.dev->rx_dropped(), 0u);
    EXPECT_EQ(f.nic.interrupts, 0u);  // polled throughout with interrupts off
}

TEST(VirtioNet, ThousandRoundTripsWithEventIdx) { round_trips(kAllNet); }
TEST(VirtioNet, ThousandRoundTripsWithoutEventIdx) { round_trips(kAllNet & ~feature::kEventIdx); }

TEST(VirtioNet, MultiSegmentFrameAndBatching) {
    NetFixture f(kAllNet, 16);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(4);
    TxSegment segs[3] = {f.frame(0, 14, 1), f.frame(1, 100, 2), f.frame(2, 7, 3)};
    ASSERT_TRUE(f.dev->queue_tx(segs, 3, 77).ok());
    TxSegment one = f.frame(3, 60, 9);
    ASSERT_TRUE(f.dev->queue_tx(&one, 1, 78).ok());
    EXPECT_EQ(f.nic.queues[1].notifies, 0u);
    ASSERT_TRUE(f.dev->kick_tx().ok());
    EXPECT_EQ(f.nic.queues[1].notifies, 1u);  // one doorbell for the batch
    f.nic.service();
    ASSERT_EQ(f.nic.sent.size(), 2u);
    std::vector<uint8_t> want;
    for (auto& s : segs) want.insert(want.end(), s.va, s.va + s.len);
    EXPECT_EQ(f.nic.sent[0], want);
    EXPECT_EQ(*f.dev->poll_tx(), 77u);
    EXPECT_EQ(*f.dev->poll_tx(), 78u);
    EXPECT_EQ(f.dev->poll_tx().error(), Error::Empty);
    auto rx = f.dev->poll_rx();
    ASSERT_TRUE(rx.ok());
    EXPECT_EQ(std::vector<uint8_t>(rx->data, rx->data + rx->len), want);
}

TEST(VirtioNet, TransmitChecks) {
    NetFixture f(kAllNet, 4);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    TxSegment big = f.frame(0, NetDevice::kMaxFrame + 1, 0);
    EXPECT_EQ(f.dev->transmit(&big, 1, 1).error(), Error::InvalidArgument);
    TxSegment tiny = f.frame(0, 13, 0);
    EXPECT_EQ(f.dev->transmit(&tiny, 1, 1).error(), Error::InvalidArgument);
    TxSegment ok = f.frame(0, 60, 0);
    EXPECT_EQ(f.dev->transmit(&ok, 0, 1).error(), Error::InvalidArgument);
    std::vector<TxSegment> many(NetDevice::kMaxTxSegments + 1, f.frame(0, 14, 0));
    EXPECT_EQ(f.dev->transmit(many.data(), static_cast<uint32_t>(many.size()), 1).error(), Error::InvalidArgument);
    TxChecksum bad{50, 10};  // checksum field past the end of a 60-byte frame
    EXPECT_EQ(f.dev->transmit(&ok, 1, 1, &bad).error(), Error::InvalidArgument);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(f.dev->transmit(&ok, 1, i).ok());
    EXPECT_EQ(f.dev->transmit(&ok, 1, 9).error(), Error::Full);
}

// transmit_one(): a one-segment frame, queued and published at once, with
// transmit()'s checks; the header the device sees asks for nothing, even
// where the headroom held other bytes (a received frame answered in place).
TEST(VirtioNet, SingleSegmentTransmit) {
    NetFixture f(kAllNet, 4);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(2);
    EXPECT_EQ(f.dev->transmit_one(f.frame(0, NetDevice::kMaxFrame + 1, 0), 1).error(), Error::InvalidArgument);
    EXPECT_EQ(f.dev->transmit_one(f.frame(0, 13, 0), 1).error(), Error::InvalidArgument);
    TxSegment no_room = f.frame(0, 60, 0);
    no_room.pa = NetDevice::kHeaderBytes - 1;  // no headroom on the device side
    EXPECT_EQ(f.dev->transmit_one(no_room, 1).error(), Error::InvalidArgument);
    memset(f.tx_bufs[1].va, 0xa5, kHeadroom);  // stale bytes where the header goes
    TxSegment s = f.frame(1, 60, 4);
    ASSERT_TRUE(f.dev->transmit_one(s, 41).ok());
    EXPECT_EQ(f.nic.queues[1].notifies, 1u);  // published: no kick_tx() needed
    f.nic.service();
    ASSERT_EQ(f.nic.sent.size(), 1u);
    EXPECT_EQ(f.nic.sent[0], std::vector<uint8_t>(s.va, s.va + s.len));
    EXPECT_EQ(f.nic.sent_hdrs[0], std::vector<uint8_t>(NetDevice::kHeaderBytes, 0));
    EXPECT_EQ(*f.dev->poll_tx(), 41u);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(f.dev->transmit_one(f.frame(uint32_t(i), 60, 0), uint64_t(i)).ok());
    EXPECT_EQ(f.dev->transmit_one(f.frame(0, 60, 0), 9).error(), Error::Full);
}

TEST(VirtioNet, ChecksumOffload) {
    NetFixture f(kAllNet, 8);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(2);
    TxSegment s = f.frame(0, 80, 0);
    TxChecksum c{34, 6};  // e.g. UDP over IPv4: start at L4, checksum at +6
    ASSERT_TRUE(f.dev->transmit(&s, 1, 1, &c).ok());
    f.nic.rx_hdr_flags = 2;  // DATA_VALID on what comes back
    f.nic.service();
    NetHeader h;
    memcpy(&h, f.nic.sent_hdrs[0].data(), sizeof h);
    EXPECT_EQ(h.flags, 1);  // NEEDS_CSUM
    EXPECT_EQ(h.csum_start, 34);
    EXPECT_EQ(h.csum_offset, 6);
    auto rx = f.dev->poll_rx();
    ASSERT_TRUE(rx.ok());
    EXPECT_TRUE(rx->csum_valid);
    EXPECT_FALSE(rx->csum_partial);

    NetFixture g(kAllNet & ~(net_feature::kCsum | net_feature::kGuestCsum), 8);
    ASSERT_TRUE(g.dev->init(g.cfg).ok());
    g.fill_rx(2);
    TxSegment t = g.frame(0, 80, 0);
    EXPECT_EQ(g.dev->transmit(&t, 1, 1, &c).error(), Error::Unsupported);
    ASSERT_TRUE(g.dev->transmit(&t, 1, 1).ok());
    g.nic.rx_hdr_flags = 2;  // ignored: GUEST_CSUM not negotiated
    g.nic.service();
    auto rx2 = g.dev->poll_rx();
    ASSERT_TRUE(rx2.ok());
    EXPECT_FALSE(rx2->csum_valid);
}

TEST(VirtioNet, RuntsAndBogusHeadersAreDroppedAndBuffersReused) {
    NetFixture f(kAllNet, 8);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(1);  // a single buffer: it must come back to the ring each time
    f.nic.inject(std::vector<uint8_t>(5, 0xee));
    f.nic.service();
    EXPECT_EQ(f.dev->poll_rx().error(), Error::Empty);
    EXPECT_EQ(f.dev->rx_dropped(), 1u);
    f.nic.rx_hdr_flags = 1;  // NEEDS_CSUM with csum_start/offset 0/0 inside a 60-byte frame: fine
    f.nic.inject(std::vector<uint8_t>(60, 0x11));
    f.nic.service();
    auto rx = f.dev->poll_rx();
    ASSERT_TRUE(rx.ok());
    EXPECT_TRUE(rx->csum_partial);
    EXPECT_EQ(rx->len, 60u);
    EXPECT_EQ(rx->cookie, 0u);
}

TEST(VirtioNet, InterruptsOnlyWhenArmed) {
    NetFixture f(kAllNet, 8);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(4);
    f.dev->disable_interrupts();
    f.nic.inject(std::vector<uint8_t>(60, 1));
    f.nic.service();
    EXPECT_EQ(f.nic.interrupts, 0u);
    EXPECT_TRUE(f.dev->enable_interrupts());  // a frame is already waiting
    ASSERT_TRUE(f.dev->poll_rx().ok());
    EXPECT_FALSE(f.dev->enable_interrupts());  // now it is safe to sleep
    f.nic.inject(std::vector<uint8_t>(60, 2));
    f.nic.service();
    EXPECT_EQ(f.nic.interrupts, 1u);
    EXPECT_EQ(f.dev->ack_interrupt(), kInterruptUsedBuffer);
    ASSERT_TRUE(f.dev->poll_rx().ok());
}

TEST(VirtioNet, TxCompletionsInterruptOnlyOnRequest) {
    NetFixture f(kAllNet, 8);
    f.nic.loopback = false;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    TxSegment s = f.frame(0, 60, 0);
    ASSERT_TRUE(f.dev->transmit(&s, 1, 1).ok());
    f.nic.service();
    EXPECT_EQ(f.nic.interrupts, 0u);         // TX interrupts are off by default
    EXPECT_TRUE(f.dev->enable_interrupts());  // but the finished TX is reported
    EXPECT_EQ(*f.dev->poll_tx(), 1u);
    EXPECT_FALSE(f.dev->enable_interrupts(true));
    ASSERT_TRUE(f.dev->transmit(&s, 1, 2).ok());
    f.nic.service();
    EXPECT_EQ(f.nic.interrupts, 1u);  // armed for TX: the app waiting for buffers wakes
    EXPECT_EQ(*f.dev->poll_tx(), 2u);
}

// A device that asked (avail_event) for no notification yet still sits on
// published TX chains: before the core sleeps the driver notifies anyway,
// so a notification the device lost cannot stall transmission for good.
TEST(VirtioNet, OutstandingTxIsNotifiedAgainBeforeSleeping) {
    NetFixture f(kAllNet, 8);
    f.nic.loopback = false;
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.nic.set_avail_event(NetDevice::kTxQueue, 0x8000);  // "not before index 0x8001"
    TxSegment s = f.frame(0, 60, 0);
    ASSERT_TRUE(f.dev->transmit(&s, 1, 7).ok());
    EXPECT_EQ(f.nic.queues[NetDevice::kTxQueue].notifies, 0u);  // suppressed, as asked
    EXPECT_FALSE(f.dev->enable_interrupts());
    EXPECT_EQ(f.nic.queues[NetDevice::kTxQueue].notifies, 1u);  // sent anyway before sleeping
    EXPECT_EQ(f.dev->tx_renotified(), 1u);
    f.nic.service();
    EXPECT_TRUE(f.dev->enable_interrupts());  // done: report it, no new notification
    EXPECT_EQ(f.nic.queues[NetDevice::kTxQueue].notifies, 1u);
    EXPECT_EQ(*f.dev->poll_tx(), 7u);
    EXPECT_FALSE(f.dev->enable_interrupts());  // nothing outstanding: nothing to say
    EXPECT_EQ(f.nic.queues[NetDevice::kTxQueue].notifies, 1u);
}

TEST(VirtioNet, ResetReclaimsEveryBuffer) {
    NetFixture f(kAllNet, 8);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(6);
    TxSegment s = f.frame(0, 60, 0);
    ASSERT_TRUE(f.dev->transmit(&s, 1, 99).ok());
    ASSERT_TRUE(f.dev->reset().ok());
    uint64_t rx_sum = 0;
    int rx_n = 0;
    for (auto c = f.dev->reclaim_rx(); c.ok(); c = f.dev->reclaim_rx()) {
        rx_sum += *c;
        ++rx_n;
    }
    EXPECT_EQ(rx_n, 6);
    EXPECT_EQ(rx_sum, 0u + 1 + 2 + 3 + 4 + 5);
    EXPECT_EQ(*f.dev->reclaim_tx(), 99u);
    EXPECT_EQ(f.dev->reclaim_tx().error(), Error::Empty);
}

TEST(VirtioNet, LyingDeviceBreaksTheQueue) {
    NetFixture f(kAllNet, 8);
    ASSERT_TRUE(f.dev->init(f.cfg).ok());
    f.fill_rx(2);
    // RX: a length beyond the 2048-byte buffer.
    f.nic.writes_len_plus_one = true;
    f.nic.inject(std::vector<uint8_t>(kBuf - NetDevice::kHeaderBytes, 3));
    f.nic.service();
    EXPECT_EQ(f.dev->poll_rx().error(), Error::BadFormat);
    EXPECT_EQ(f.dev->poll_rx().error(), Error::BadFormat);
    EXPECT_EQ(f.dev->kick_rx().error(), Error::BadFormat);
    // TX: an id that is not in flight.
    f.nic.writes_len_plus_one = false;
    TxSegment s = f.frame(0, 60, 0);
    ASSERT_TRUE(f.dev->transmit(&s, 1, 5).ok());
    f.nic.write_used_elem(1, 0, 7, 0);
    f.nic.set_used_idx(1, 1);
    EXPECT_EQ(f.dev->poll_tx().error(), Error::BadFormat);
    EXPECT_EQ(f.dev->transmit(&s, 1, 6).error(), Error::BadFormat);
    f.nic.errors.clear();  // the device was told to break the rules
}

}  // namespace
}  // namespace ringlet::virtio
