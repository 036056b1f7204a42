// MmioTransport against the fake register file: probing, the status
// handshake, feature negotiation failures, queue setup, interrupts, config.
#include "drivers/virtio/mmio_transport.h"

#include <gtest/gtest.h>

#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::virtio {
namespace {

using test::DmaArena;
using test::FakeDevice;

constexpr uint64_t kOffered = feature::kVersion1 | feature::kEventIdx | (1ull << 5) | (1ull << 16);

struct VirtioTransportTest : ::testing::Test {
    DmaArena arena{1 << 16};
    FakeDevice dev{&arena, kDeviceNet, kOffered, 2, 16};

    void TearDown() override {
        for (const auto& e : dev.errors) ADD_FAILURE() << "device saw: " << e;
    }
};

TEST_F(VirtioTransportTest, ProbeReadsIdsAndLeavesStatusAlone) {
    dev.status = 0x55 & ~status::kFailed;  // whatever a previous owner left
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->device_id(), kDeviceNet);
    EXPECT_EQ(t->vendor_id(), 0x554d4551u);
    EXPECT_EQ(dev.status, 0x55u & ~status::kFailed);
    EXPECT_EQ(dev.resets, 0u);
}

TEST_F(VirtioTransportTest, WrongMagicIsBadFormat) {
    dev.magic = 0x12345678;
    EXPECT_EQ(MmioTransport::create(dev.window()).error(), Error::BadFormat);
    EXPECT_EQ(dev.status, 0u);
}

TEST_F(VirtioTransportTest, LegacyAndUnknownVersionsAreUnsupported) {
    dev.version = 1;
    EXPECT_EQ(MmioTransport::create(dev.window()).error(), Error::Unsupported);
    dev.version = 3;
    EXPECT_EQ(MmioTransport::create(dev.window()).error(), Error::Unsupported);
    EXPECT_EQ(dev.status, 0u);
}

TEST_F(VirtioTransportTest, EmptySlotIsNotFound) {
    dev.device_id = 0;
    EXPECT_EQ(MmioTransport::create(dev.window()).error(), Error::NotFound);
}

TEST_F(VirtioTransportTest, NullWindowIsInvalid) {
    EXPECT_EQ(MmioTransport::create(MmioWindow()).error(), Error::InvalidArgument);
}

TEST_F(VirtioTransportTest, FullHandshakeReachesDriverOk) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    dev.status = status::kDriverOk | status::kAcknowledge;  // stale state: must be reset first
    auto f = t->negotiate(feature::kEventIdx | (1ull << 5) | (1ull << 7), 0);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(dev.resets, 1u);
    // Accepted = offered & (wanted | VERSION_1); bit 7 is not offered.
    EXPECT_EQ(*f, feature::kVersion1 | feature::kEventIdx | (1ull << 5));
    EXPECT_EQ(dev.driver_features, *f);
    EXPECT_EQ(t->features(), *f);
    EXPECT_EQ(dev.status, status::kAcknowledge | status::kDriver | status::kFeaturesOk);

    auto max = t->queue_max(1);
    ASSERT_TRUE(max.ok());
    EXPECT_EQ(*max, 256);
    ASSERT_TRUE(t->enable_queue(1, 64, 0x1'2345'6000ull, 0x1'2345'7000ull, 0x1'2345'8000ull).ok());
    EXPECT_EQ(dev.queues[1].num, 64u);
    EXPECT_EQ(dev.queues[1].desc, 0x1'2345'6000ull);
    EXPECT_EQ(dev.queues[1].driver, 0x1'2345'7000ull);
    EXPECT_EQ(dev.queues[1].device, 0x1'2345'8000ull);
    EXPECT_EQ(dev.queues[1].ready, 1u);
    dev.errors.clear();  // the fake addresses above are not DMA memory; that is fine here

    ASSERT_TRUE(t->driver_ok().ok());
    EXPECT_EQ(dev.status, status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
    // A live queue cannot be set up again.
    EXPECT_EQ(t->queue_max(1).error(), Error::Busy);
}

TEST_F(VirtioTransportTest, MissingVersion1IsRefusedWithFailed) {
    dev.device_features = feature::kEventIdx;
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->negotiate(feature::kEventIdx, 0).error(), Error::Unsupported);
    EXPECT_NE(dev.status & status::kFailed, 0u);
    EXPECT_EQ(dev.status & status::kFeaturesOk, 0u);
}

TEST_F(VirtioTransportTest, MissingRequiredFeatureIsRefusedWithFailed) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->negotiate(0, 1ull << 9).error(), Error::Unsupported);
    EXPECT_NE(dev.status & status::kFailed, 0u);
}

TEST_F(VirtioTransportTest, DeviceRefusingFeaturesOkIsUnsupported) {
    dev.refuse_features_ok = true;
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->negotiate(kOffered, 0).error(), Error::Unsupported);
    EXPECT_NE(dev.status & status::kFailed, 0u);
    EXPECT_EQ(t->features(), 0u);
}

TEST_F(VirtioTransportTest, ResetWaitsForStatusZero) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    dev.status = status::kAcknowledge;
    dev.reset_delay_reads = 10;
    EXPECT_TRUE(t->reset().ok());
    EXPECT_EQ(dev.status, 0u);
}

TEST_F(VirtioTransportTest, ResetThatNeverCompletesTimesOut) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    dev.status = status::kAcknowledge;
    dev.reset_delay_reads = MmioTransport::kResetPolls + 1;
    EXPECT_EQ(t->reset().error(), Error::TimedOut);
}

TEST_F(VirtioTransportTest, QueueChecks) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(t->negotiate(0, 0).ok());
    dev.queues[0].num_max = 0;
    EXPECT_EQ(t->queue_max(0).error(), Error::NotFound);
    EXPECT_EQ(t->queue_max(7).error(), Error::NotFound);  // no such queue at all
    dev.queues[1].num_max = 100000;
    EXPECT_EQ(*t->queue_max(1), 32768);  // clamped to the split-ring maximum
    dev.queues[1].num_max = 128;
    EXPECT_EQ(t->enable_queue(1, 48, 0, 0, 0).error(), Error::InvalidArgument);   // not a power of two
    EXPECT_NE(dev.status & status::kFailed, 0u);
    dev.status &= ~status::kFailed;
    EXPECT_EQ(t->enable_queue(1, 256, 0, 0, 0).error(), Error::InvalidArgument);  // above QueueNumMax
    dev.status &= ~status::kFailed;
    EXPECT_EQ(t->enable_queue(1, 0, 0, 0, 0).error(), Error::InvalidArgument);
    EXPECT_EQ(dev.queues[1].ready, 0u);
}

TEST_F(VirtioTransportTest, DeviceNeedsResetAtDriverOkIsIoError) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(t->negotiate(0, 0).ok());
    dev.status |= status::kDeviceNeedsReset;
    EXPECT_EQ(t->driver_ok().error(), Error::IoError);
    EXPECT_NE(dev.status & status::kFailed, 0u);
}

TEST_F(VirtioTransportTest, InterruptAckClearsExactlyTheBitsRead) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->ack_interrupt(), 0u);
    dev.interrupt_status = kInterruptUsedBuffer | kInterruptConfigChange;
    EXPECT_EQ(t->ack_interrupt(), kInterruptUsedBuffer | kInterruptConfigChange);
    EXPECT_EQ(dev.interrupt_status, 0u);
}

TEST_F(VirtioTransportTest, ConfigReadsUseFieldWidths) {
    for (uint32_t i = 0; i < 16; ++i) dev.config[i] = static_cast<uint8_t>(0x10 + i);
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->config8(3), 0x13);
    EXPECT_EQ(t->config16(6), 0x1716);
    EXPECT_EQ(t->config32(8), 0x1b1a1918u);
    EXPECT_EQ(dev.config_access_widths, (std::vector<uint32_t>{1, 2, 4}));
}

TEST_F(VirtioTransportTest, ConsistentConfigReadRetriesWhileGenerationMoves) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    dev.generation_churn = 5;
    int rounds = 0;
    EXPECT_TRUE(t->read_config_consistent([&] { ++rounds; }).ok());
    EXPECT_GT(rounds, 1);
    dev.generation_churn = 1000;
    EXPECT_EQ(t->read_config_consistent([] {}).error(), Error::TimedOut);
}

TEST_F(VirtioTransportTest, DoorbellNamesTheQueue) {
    auto t = MmioTransport::create(dev.window());
    ASSERT_TRUE(t.ok());
    Doorbell d = t->doorbell(1);
    EXPECT_EQ(d.offset, reg::kQueueNotify);
    EXPECT_EQ(d.value, 1u);
    EXPECT_TRUE(d.window.valid());
}

}  // namespace
}  // namespace ringlet::virtio
