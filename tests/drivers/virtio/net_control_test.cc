// NetMultiQueue (drivers/virtio/net_control.h) against FakeNic with queue
// pairs and a control queue: the exact RSS_CONFIG bytes (the same key and
// table as net/flow_steering), traffic on every pair, and each fallback to
// one pair - no MQ (QEMU user networking), no RSS, too few pairs, a table
// that does not fit, a refused or unanswered command.
#include "drivers/virtio/net_control.h"

#include <gtest/gtest.h>

#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "drivers/virtio/net.h"
#include "net/flow_steering.h"
#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::virtio {
namespace {

using test::DmaArena;
using test::FakeNic;

constexpr uint64_t kBase = feature::kVersion1 | feature::kEventIdx | net_feature::kMac | net_feature::kStatus;
constexpr uint64_t kMqNet = kBase | net_feature::kMq | net_feature::kCtrlVq | net_feature::kRss |
                            net_feature::kHashReport;
constexpr uint16_t kQueue = 16;
constexpr uint32_t kBuf = 2048;
constexpr uint32_t kHeadroom = 64;

struct MqFixture {
    DmaArena arena{8 << 20};
    FakeNic nic;
    std::unique_ptr<NetDevice> devs[NetMultiQueue::kMaxPairs];
    NetDevice* dev_ptrs[NetMultiQueue::kMaxPairs] = {};
    NetPairRings rings[NetMultiQueue::kMaxPairs] = {};
    std::unique_ptr<net::FlowSteering> steering = std::make_unique<net::FlowSteering>();
    NetMultiQueue::Config mq_cfg;
    std::unique_ptr<NetMultiQueue> mq;
    NetConfig cfg;

    MqFixture(uint64_t features, uint16_t device_pairs, uint16_t want) : nic(&arena, features, device_pairs) {
        nic.auto_service = true;  // control commands are answered within the doorbell write
        for (uint16_t k = 0; k < NetMultiQueue::kMaxPairs; ++k) {
            devs[k] = std::make_unique<NetDevice>();
            dev_ptrs[k] = devs[k].get();
            rings[k].rx_ring = arena.alloc(Virtqueue::ring_bytes(kQueue), 4096);
            rings[k].tx_ring = arena.alloc(Virtqueue::ring_bytes(kQueue), 4096);
        }
        EXPECT_TRUE(steering->init(want).ok());
        mq_cfg.pairs = want;
        mq_cfg.devices = dev_ptrs;
        mq_cfg.rings = rings;
        mq_cfg.control_ring = arena.alloc(NetMultiQueue::control_ring_bytes(), 4096);
        mq_cfg.control_buffer = arena.alloc(NetMultiQueue::kControlBufferBytes);
        mq_cfg.rss.key = steering->key();
        mq_cfg.rss.key_len = net::kRssKeyBytes;
        mq_cfg.rss.table = steering->table();
        mq_cfg.rss.table_len = net::kSteeringTableEntries;
        cfg.window = nic.window();
        cfg.rx_ring = rings[0].rx_ring;
        cfg.tx_ring = rings[0].tx_ring;
        cfg.queue_size = kQueue;
    }
    ~MqFixture() {
        for (const auto& e : nic.errors) ADD_FAILURE() << "device saw: " << e;
    }
    Result<void> init() {
        mq = std::make_unique<NetMultiQueue>(mq_cfg);
        cfg.multiqueue = mq.get();
        return devs[0]->init(cfg);
    }
    // Sends a frame on pair k's device and receives it back (the fake loops
    // it back on the same pair): every byte checked.
    void round_trip(uint16_t k, uint8_t seed) {
        NetDevice& d = *devs[k];
        DmaSpan rx = arena.alloc(kBuf), tx = arena.alloc(kBuf);
        ASSERT_TRUE(d.post_rx(RxBuffer{rx.va, rx.pa, kBuf, 7}).ok());
        ASSERT_TRUE(d.kick_rx().ok());
        uint8_t* p = tx.va + kHeadroom;
        for (uint32_t i = 0; i < 100; ++i) p[i] = static_cast<uint8_t>(seed + i);
        TxSegment s{p, tx.pa + kHeadroom, 100};
        ASSERT_TRUE(d.transmit(&s, 1, 9).ok());
        nic.service();
        ASSERT_EQ(nic.sent_pair.back(), k);
        auto done = d.poll_tx();
        ASSERT_TRUE(done.ok());
        EXPECT_EQ(*done, 9u);
        auto f = d.poll_rx();
        ASSERT_TRUE(f.ok()) << error_name(f.error());
        ASSERT_EQ(f->len, 100u);
        EXPECT_EQ(f->cookie, 7u);
        EXPECT_EQ(0, memcmp(f->data, p, 100));
    }
};

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x));
    v.push_back(static_cast<uint8_t>(x >> 8));
}

TEST(VirtioNetMq, FourPairsWithRssProgramTheSteeringKeyAndTable) {
    MqFixture f(kMqNet, 4, 4);
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->status(), Error::Ok) << f.mq->status_text();
    EXPECT_EQ(f.mq->active_pairs(), 4);
    EXPECT_TRUE(f.mq->rss_enabled());
    EXPECT_EQ(f.mq->device_max_pairs(), 4);
    // MQ, CTRL_VQ and RSS negotiated; HASH_REPORT never (it grows the header).
    uint64_t got = f.devs[0]->features();
    EXPECT_NE(got & net_feature::kMq, 0u);
    EXPECT_NE(got & net_feature::kCtrlVq, 0u);
    EXPECT_NE(got & net_feature::kRss, 0u);
    EXPECT_EQ(got & net_feature::kHashReport, 0u);
    // Queues 0..7 are the four pairs, 8 the control queue, all live.
    for (uint32_t q = 0; q < 9; ++q) EXPECT_EQ(f.nic.queues[q].ready, 1u) << "queue " << q;
    EXPECT_EQ(f.nic.queues[8].num, NetMultiQueue::kControlQueueSize);

    // Exactly one command: RSS_CONFIG, byte for byte (section 5.1.6.5.7.1).
    ASSERT_EQ(f.nic.commands.size(), 1u);
    std::vector<uint8_t> want = {4, 1};
    uint32_t types = rss_hash::kTcpv4 | rss_hash::kUdpv4;
    for (int i = 0; i < 4; ++i) want.push_back(static_cast<uint8_t>(types >> (8 * i)));
    put16(want, 127);  // indirection_table_mask
    put16(want, 0);    // unclassified_queue: core 0, as the software steering
    for (uint32_t i = 0; i < 128; ++i) put16(want, static_cast<uint16_t>(i % 4));
    put16(want, 4);  // max_tx_vq
    want.push_back(40);
    want.insert(want.end(), net::kDefaultRssKey, net::kDefaultRssKey + 40);
    EXPECT_EQ(f.nic.commands[0], want);
    // The device holds the same table and key as the software steering.
    ASSERT_EQ(f.nic.rss_table.size(), 128u);
    for (uint32_t i = 0; i < 128; ++i) EXPECT_EQ(f.nic.rss_table[i], f.steering->table()[i]);
    EXPECT_EQ(0, memcmp(f.nic.rss_key.data(), f.steering->key(), 40));
    EXPECT_EQ(f.nic.active_pairs, 4);

    // Each pair is its own NetDevice; traffic on each stays on it.
    for (uint16_t k = 0; k < 4; ++k) {
        EXPECT_EQ(f.devs[k]->queue_pair(), k);
        EXPECT_EQ(0, memcmp(f.devs[k]->mac(), f.devs[0]->mac(), 6));
        f.round_trip(k, static_cast<uint8_t>(k * 31));
    }
    // A frame the device steers to pair 2 arrives only there.
    std::vector<uint8_t> frame(60, 0xab);
    f.nic.inject_on(2, frame);
    DmaSpan rx = f.arena.alloc(kBuf);
    ASSERT_TRUE(f.devs[2]->post_rx(RxBuffer{rx.va, rx.pa, kBuf, 5}).ok());
    ASSERT_TRUE(f.devs[2]->kick_rx().ok());
    EXPECT_EQ(f.devs[1]->poll_rx().error(), Error::Empty);
    auto got2 = f.devs[2]->poll_rx();
    ASSERT_TRUE(got2.ok());
    EXPECT_EQ(got2->len, 60u);
    // TX re-notification rings the pair's own TX queue (2k+1).
    uint32_t before = f.nic.queues[5].notifies;
    f.devs[2]->renotify_tx();
    EXPECT_EQ(f.nic.queues[5].notifies, before + 1);
}

TEST(VirtioNetMq, TwoOfFourPairs) {
    MqFixture f(kMqNet, 4, 2);
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->active_pairs(), 2);
    EXPECT_EQ(f.nic.active_pairs, 2);
    EXPECT_EQ(f.nic.queues[8].ready, 1u);  // control queue after all four possible pairs
    EXPECT_EQ(f.nic.queues[4].ready, 0u);  // pairs 2, 3 unused
    f.round_trip(1, 3);
}

TEST(VirtioNetMq, OnePairAsksForNothing) {
    MqFixture f(kMqNet, 4, 1);
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.devs[0]->features() & (net_feature::kMq | net_feature::kCtrlVq | net_feature::kRss), 0u);
    EXPECT_EQ(f.mq->active_pairs(), 1);
    EXPECT_TRUE(f.nic.commands.empty());
    f.round_trip(0, 1);
}

TEST(VirtioNetMq, UserNetworkingHasNoMultiqueue) {
    // QEMU user networking: one pair, no control queue.
    MqFixture f(kBase, 1, 4);
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->status(), Error::Unsupported);
    EXPECT_NE(std::string(f.mq->status_text()).find("no multiqueue"), std::string::npos);
    EXPECT_EQ(f.mq->active_pairs(), 1);
    EXPECT_EQ(f.devs[1]->queue_pair(), 0);  // never attached
    f.round_trip(0, 2);
}

TEST(VirtioNetMq, NoRssStaysOnOnePairUnlessAllowed) {
    {
        MqFixture f(kMqNet & ~net_feature::kRss, 4, 4);
        ASSERT_TRUE(f.init().ok());
        EXPECT_EQ(f.mq->status(), Error::Unsupported);
        EXPECT_EQ(f.mq->active_pairs(), 1);
        EXPECT_TRUE(f.nic.commands.empty());
        f.round_trip(0, 4);
    }
    {
        MqFixture f(kMqNet & ~net_feature::kRss, 4, 4);
        f.mq_cfg.allow_without_rss = true;
        ASSERT_TRUE(f.init().ok());
        EXPECT_EQ(f.mq->status(), Error::Ok);
        EXPECT_EQ(f.mq->active_pairs(), 4);
        EXPECT_FALSE(f.mq->rss_enabled());
        ASSERT_EQ(f.nic.commands.size(), 1u);
        EXPECT_EQ(f.nic.commands[0], (std::vector<uint8_t>{4, 0, 4, 0}));  // VQ_PAIRS_SET 4
        f.round_trip(3, 5);
    }
}

TEST(VirtioNetMq, TooFewPairsOffered) {
    MqFixture f(kMqNet, 2, 4);
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->status(), Error::OutOfRange);
    EXPECT_EQ(f.mq->device_max_pairs(), 2);
    EXPECT_EQ(f.mq->active_pairs(), 1);
    f.round_trip(0, 6);
}

TEST(VirtioNetMq, TableThatDoesNotFitFallsBack) {
    MqFixture f(kMqNet, 4, 2);
    uint16_t bad[128] = {};
    bad[5] = 2;  // a pair that is not there
    f.mq_cfg.rss.table = bad;
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->status(), Error::InvalidArgument);
    EXPECT_EQ(f.mq->active_pairs(), 1);

    MqFixture g(kMqNet, 4, 2);
    g.nic.config[17] = 32;  // the device takes shorter keys only
    ASSERT_TRUE(g.init().ok());
    EXPECT_EQ(g.mq->status(), Error::InvalidArgument);
    EXPECT_TRUE(g.nic.commands.empty());
}

TEST(VirtioNetMq, RefusedRssFallsBackToOnePair) {
    MqFixture f(kMqNet, 4, 4);
    f.nic.refuse_commands = true;
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->status(), Error::IoError);
    EXPECT_NE(std::string(f.mq->status_text()).find("refused RSS_CONFIG"), std::string::npos);
    EXPECT_EQ(f.mq->active_pairs(), 1);
    EXPECT_FALSE(f.mq->rss_enabled());
    EXPECT_EQ(f.nic.commands.size(), 1u);
    EXPECT_EQ(f.nic.active_pairs, 1);
    f.round_trip(0, 7);  // the default pair carries everything
}

TEST(VirtioNetMq, UnansweredCommandTimesOut) {
    MqFixture f(kMqNet, 4, 4);
    f.nic.ignore_commands = true;
    ASSERT_TRUE(f.init().ok());
    EXPECT_EQ(f.mq->status(), Error::TimedOut);
    EXPECT_EQ(f.mq->active_pairs(), 1);
    f.round_trip(0, 8);
}

}  // namespace
}  // namespace ringlet::virtio
