#include "drivers/virtio/mmio_transport.h"

namespace ringlet::virtio {

Result<MmioTransport> MmioTransport::create(MmioWindow window) {
    if (!window.valid()) return Error::InvalidArgument;
    // Section 4.2.3.1.1: check MagicValue and Version before anything else,
    // and touch nothing (not even Status) on a device we do not understand.
    if (window.read32(reg::kMagicValue) != kMagic) return Error::BadFormat;
    // Version 1 is the legacy register layout (QEMU's default unless
    // force-legacy=false): a different queue setup we do not implement.
    if (window.read32(reg::kVersion) != kModernVersion) return Error::Unsupported;
    uint32_t device_id = window.read32(reg::kDeviceId);
    // DeviceID 0 marks an empty slot; the driver must ignore it.
    if (device_id == 0) return Error::NotFound;
    return MmioTransport(window, device_id, window.read32(reg::kVendorId));
}

Result<void> MmioTransport::reset() {
    m_features = 0;
    // Section 2.4.1 (and 4.2.2 Status): writing 0 resets the device; the
    // driver must wait for Status to read back 0 before re-initialising.
    m_window.write32(reg::kStatus, 0);
    for (uint32_t i = 0; i < kResetPolls; ++i) {
        if (m_window.read32(reg::kStatus) == 0) return {};
    }
    return Error::TimedOut;
}

void MmioTransport::set_status_bits(uint32_t bits) {
    // Section 2.1.1: the driver only ever adds bits (until a reset), so
    // read-modify-write keeps the earlier steps' bits set.
    m_window.write32(reg::kStatus, m_window.read32(reg::kStatus) | bits);
}

void MmioTransport::fail() { set_status_bits(status::kFailed); }

uint64_t MmioTransport::device_features() const {
    // Section 4.2.2: DeviceFeaturesSel picks which 32-bit half DeviceFeatures shows.
    m_window.write32(reg::kDeviceFeaturesSel, 0);
    uint64_t lo = m_window.read32(reg::kDeviceFeatures);
    m_window.write32(reg::kDeviceFeaturesSel, 1);
    uint64_t hi = m_window.read32(reg::kDeviceFeatures);
    return lo | (hi << 32);
}

Result<uint64_t> MmioTransport::negotiate(uint64_t wanted, uint64_t required) {
    // Section 3.1.1 step 1: reset.
    TRY(reset());
    // Step 2: ACKNOWLEDGE, we noticed the device. Step 3: DRIVER, we can drive it.
    set_status_bits(status::kAcknowledge);
    set_status_bits(status::kDriver);

    // Step 4: read the offered features and write back the subset we accept.
    // Section 6.1: a modern driver must accept VIRTIO_F_VERSION_1, and a
    // device that does not offer it only speaks the legacy interface.
    required |= feature::kVersion1;
    uint64_t offered = device_features();
    if ((offered & required) != required) {
        fail();
        return Error::Unsupported;
    }
    uint64_t accepted = offered & (wanted | required);
    m_window.write32(reg::kDriverFeaturesSel, 0);
    m_window.write32(reg::kDriverFeatures, static_cast<uint32_t>(accepted));
    m_window.write32(reg::kDriverFeaturesSel, 1);
    m_window.write32(reg::kDriverFeatures, static_cast<uint32_t>(accepted >> 32));

    // Step 5: FEATURES_OK; no feature bits may change after this.
    set_status_bits(status::kFeaturesOk);
    // Step 6: re-read Status; a device that does not support our subset
    // leaves FEATURES_OK clear, and the device is unusable.
    if ((m_window.read32(reg::kStatus) & status::kFeaturesOk) == 0) {
        fail();
        return Error::Unsupported;
    }
    m_features = accepted;
    return accepted;
}

Result<uint16_t> MmioTransport::queue_max(uint16_t index) {
    // Section 4.2.3.2 steps 1-3: select the queue, check it is not already
    // in use (QueueReady 0), read how many entries it takes.
    select_queue(index);
    if (m_window.read32(reg::kQueueReady) != 0) {
        return Error::Busy;
    }
    uint32_t max = m_window.read32(reg::kQueueNumMax);
    // QueueNumMax 0: the queue does not exist on this device.
    if (max == 0) return Error::NotFound;
    // Section 2.7: the largest split queue is 32768 entries; a device that
    // offers more still takes 32768, the most a 16-bit ring index can track.
    return static_cast<uint16_t>(max > 32768 ? 32768 : max);
}

Result<void> MmioTransport::enable_queue(uint16_t index, uint16_t size, uint64_t desc_pa,
                                         uint64_t driver_pa, uint64_t device_pa) {
    auto max = queue_max(index);
    if (!max.ok()) {
        fail();
        return max.error();
    }
    // Section 2.7: a split queue's size is a power of two.
    if (size == 0 || (size & (size - 1)) != 0 || size > *max) {
        fail();
        return Error::InvalidArgument;
    }
    // Section 4.2.3.2 steps 4-7: size, the three ring areas, then QueueReady.
    m_window.write32(reg::kQueueNum, size);
    m_window.write32(reg::kQueueDescLow, static_cast<uint32_t>(desc_pa));
    m_window.write32(reg::kQueueDescHigh, static_cast<uint32_t>(desc_pa >> 32));
    m_window.write32(reg::kQueueDriverLow, static_cast<uint32_t>(driver_pa));
    m_window.write32(reg::kQueueDriverHigh, static_cast<uint32_t>(driver_pa >> 32));
    m_window.write32(reg::kQueueDeviceLow, static_cast<uint32_t>(device_pa));
    m_window.write32(reg::kQueueDeviceHigh, static_cast<uint32_t>(device_pa >> 32));
    m_window.write32(reg::kQueueReady, 1);
    return {};
}

Result<void> MmioTransport::driver_ok() {
    // Section 3.1.1 step 8: DRIVER_OK makes the device live.
    set_status_bits(status::kDriverOk);
    // Section 2.1.2: a device that hit an error during setup says so with
    // DEVICE_NEEDS_RESET; it will not work until reset.
    if (needs_reset()) {
        fail();
        return Error::IoError;
    }
    return {};
}

uint32_t MmioTransport::ack_interrupt() {
    // Section 4.2.3.4: read the cause, then write the same bits to
    // InterruptACK so the device can drop the interrupt line.
    uint32_t bits = m_window.read32(reg::kInterruptStatus);
    if (bits != 0) m_window.write32(reg::kInterruptAck, bits);
    return bits;
}

}  // namespace ringlet::virtio
