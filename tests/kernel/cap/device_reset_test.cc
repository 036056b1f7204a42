// Resetting a handed-back virtio-mmio device (kernel/cap/device_reset.h)
// against a fake register window.
#include "kernel/cap/device_reset.h"

#include <gtest/gtest.h>

#include <map>

namespace ringlet {
namespace {

class FakeRegs final : public DeviceRegs {
public:
    uint32_t read32(uint32_t offset) override {
        ++reads[offset];
        if (offset == kVirtioMmioStatusOffset && status != 0 && reset_requested && --polls_left == 0) status = 0;
        if (offset == kVirtioMmioStatusOffset) return status;
        if (offset == kVirtioMmioMagicOffset) return magic;
        if (offset == kVirtioMmioDeviceIdOffset) return device_id;
        return 0;
    }
    void write32(uint32_t offset, uint32_t value) override {
        writes[offset] = value;
        if (offset == kVirtioMmioStatusOffset && value == 0) reset_requested = true;
    }
    uint32_t magic = kVirtioMmioMagic;
    uint32_t device_id = 1;
    uint32_t status = 0xf;  // DRIVER_OK and friends: the app had it running
    uint32_t polls_left = 3;  // the device takes this many reads to finish resetting
    bool reset_requested = false;
    std::map<uint32_t, int> reads;
    std::map<uint32_t, uint32_t> writes;
};

TEST(DeviceReset, WritesZeroAndWaitsUntilStatusReadsZero) {
    FakeRegs regs;
    ASSERT_TRUE(reset_virtio_mmio(regs, 10).ok());
    EXPECT_EQ(regs.writes.at(kVirtioMmioStatusOffset), 0u);
    EXPECT_EQ(regs.reads[kVirtioMmioStatusOffset], 3);  // it polled until the device was done
    EXPECT_EQ(regs.status, 0u);
}

TEST(DeviceReset, ADeviceThatNeverFinishesIsTimedOutNotWaitedForever) {
    FakeRegs regs;
    regs.polls_left = 1000;
    EXPECT_EQ(reset_virtio_mmio(regs, 10).error(), Error::TimedOut);
    EXPECT_EQ(regs.reads[kVirtioMmioStatusOffset], 10);
}

TEST(DeviceReset, NoDeviceNothingWritten) {
    FakeRegs empty;
    empty.device_id = 0;
    EXPECT_EQ(reset_virtio_mmio(empty, 10).error(), Error::NotFound);
    EXPECT_TRUE(empty.writes.empty());
    FakeRegs foreign;
    foreign.magic = 0x12345678;
    EXPECT_EQ(reset_virtio_mmio(foreign, 10).error(), Error::NotFound);
    EXPECT_TRUE(foreign.writes.empty());
}

}  // namespace
}  // namespace ringlet
