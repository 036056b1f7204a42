// MmioTransport: the virtio-mmio transport, modern form only (virtio 1.2
// section 4.2, register Version 2). It owns the device-independent part of a
// device's life: probing, the status handshake of section 3.1.1, feature
// negotiation, queue setup, notifications, interrupts and config space.
// The device drivers (net.h, blk.h) sit on top of one transport each.
#pragma once

#include <stdint.h>

#include "drivers/virtio/mmio_window.h"
#include "ringlet/result.h"

namespace ringlet::virtio {

// Register offsets of the modern virtio-mmio layout (section 4.2.2).
namespace reg {
inline constexpr uint32_t kMagicValue = 0x000;
inline constexpr uint32_t kVersion = 0x004;
inline constexpr uint32_t kDeviceId = 0x008;
inline constexpr uint32_t kVendorId = 0x00c;
inline constexpr uint32_t kDeviceFeatures = 0x010;
inline constexpr uint32_t kDeviceFeaturesSel = 0x014;
inline constexpr uint32_t kDriverFeatures = 0x020;
inline constexpr uint32_t kDriverFeaturesSel = 0x024;
inline constexpr uint32_t kQueueSel = 0x030;
inline constexpr uint32_t kQueueNumMax = 0x034;
inline constexpr uint32_t kQueueNum = 0x038;
inline constexpr uint32_t kQueueReady = 0x044;
inline constexpr uint32_t kQueueNotify = 0x050;
inline constexpr uint32_t kInterruptStatus = 0x060;
inline constexpr uint32_t kInterruptAck = 0x064;
inline constexpr uint32_t kStatus = 0x070;
inline constexpr uint32_t kQueueDescLow = 0x080;
inline constexpr uint32_t kQueueDescHigh = 0x084;
inline constexpr uint32_t kQueueDriverLow = 0x090;
inline constexpr uint32_t kQueueDriverHigh = 0x094;
inline constexpr uint32_t kQueueDeviceLow = 0x0a0;
inline constexpr uint32_t kQueueDeviceHigh = 0x0a4;
inline constexpr uint32_t kConfigGeneration = 0x0fc;
inline constexpr uint32_t kConfig = 0x100;
}  // namespace reg

inline constexpr uint32_t kMagic = 0x74726976;  // "virt", little-endian
inline constexpr uint32_t kModernVersion = 2;

// Device status bits (section 2.1).
namespace status {
inline constexpr uint32_t kAcknowledge = 1;
inline constexpr uint32_t kDriver = 2;
inline constexpr uint32_t kDriverOk = 4;
inline constexpr uint32_t kFeaturesOk = 8;
inline constexpr uint32_t kDeviceNeedsReset = 64;
inline constexpr uint32_t kFailed = 128;
}  // namespace status

// Device-independent feature bits (section 6).
namespace feature {
inline constexpr uint64_t kIndirectDesc = 1ull << 28;
inline constexpr uint64_t kEventIdx = 1ull << 29;
inline constexpr uint64_t kVersion1 = 1ull << 32;
inline constexpr uint64_t kAccessPlatform = 1ull << 33;
inline constexpr uint64_t kRingPacked = 1ull << 34;
}  // namespace feature

// InterruptStatus bits (section 4.2.2).
inline constexpr uint32_t kInterruptUsedBuffer = 1;
inline constexpr uint32_t kInterruptConfigChange = 2;

// Device IDs (section 5).
inline constexpr uint32_t kDeviceNet = 1;
inline constexpr uint32_t kDeviceBlock = 2;

// Where a virtqueue rings its device: a QueueNotify write of `value`.
struct Doorbell {
    MmioWindow window;
    uint32_t offset = reg::kQueueNotify;
    uint32_t value = 0;
};

class MmioTransport {
public:
    // Bounds on busy-wait loops against the device (reset completion,
    // config generation retries): a device stuck past them is an error.
    static constexpr uint32_t kResetPolls = 100000;
    static constexpr uint32_t kConfigRetries = 64;

    MmioTransport() = default;

    // Probes the device behind `window` without changing its state: wrong
    // magic -> BadFormat, legacy or unknown Version -> Unsupported, a
    // placeholder slot (DeviceID 0) -> NotFound (section 4.2.3.1.1).
    static Result<MmioTransport> create(MmioWindow window);

    uint32_t device_id() const { return m_device_id; }
    uint32_t vendor_id() const { return m_vendor_id; }
    MmioWindow window() const { return m_window; }

    // Writes 0 to Status and waits until the device reads back 0 (section
    // 2.4.1); TimedOut if it never does. Every queue and feature is dropped.
    Result<void> reset();

    // Section 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, read the offered
    // features, accept offered & wanted, FEATURES_OK and read it back.
    // VIRTIO_F_VERSION_1 and every bit of `required` must be offered, else
    // Unsupported; a device that clears FEATURES_OK -> Unsupported. Returns
    // the accepted set. On failure the device is left with FAILED set.
    Result<uint64_t> negotiate(uint64_t wanted, uint64_t required);

    // The 64-bit feature set the device offers (DeviceFeaturesSel 0 and 1).
    uint64_t device_features() const;
    // The set negotiate() accepted (0 before it succeeded).
    uint64_t features() const { return m_features; }

    // The largest size queue `index` accepts (section 4.2.3.2): NotFound if
    // QueueNumMax is 0 (no such queue), Busy if the queue is already live.
    // Precondition: negotiate() succeeded.
    Result<uint16_t> queue_max(uint16_t index);

    // Gives queue `index` its size and ring addresses and sets QueueReady
    // (section 4.2.3.2). InvalidArgument if size is 0, not a power of two
    // or above queue_max(index); on error the device gets FAILED.
    Result<void> enable_queue(uint16_t index, uint16_t size, uint64_t desc_pa, uint64_t driver_pa,
                              uint64_t device_pa);

    // Section 3.1.1 step 8: the driver is ready. IoError if the device asks
    // for a reset (DEVICE_NEEDS_RESET) instead.
    Result<void> driver_ok();

    // Section 3.1.1: sets FAILED, telling the device the driver gave up.
    void fail();

    // The current Status register.
    uint32_t status() const { return m_window.read32(reg::kStatus); }
    // True when the device reports DEVICE_NEEDS_RESET (section 2.1.2).
    bool needs_reset() const { return (status() & status::kDeviceNeedsReset) != 0; }

    // The doorbell a virtqueue uses to notify queue `index` (section 4.2.3.3).
    Doorbell doorbell(uint16_t index) const { return Doorbell{m_window, reg::kQueueNotify, index}; }

    // Reads InterruptStatus and acknowledges exactly those bits (section
    // 4.2.3.4); returns them (kInterruptUsedBuffer, kInterruptConfigChange).
    uint32_t ack_interrupt();

    // Device-specific config space reads at `offset` from 0x100, each of the
    // width of the field (section 4.2.2 asks for matching access widths).
    uint8_t config8(uint32_t offset) const { return m_window.read8(reg::kConfig + offset); }
    uint16_t config16(uint32_t offset) const { return m_window.read16(reg::kConfig + offset); }
    uint32_t config32(uint32_t offset) const { return m_window.read32(reg::kConfig + offset); }
    uint32_t config_generation() const { return m_window.read32(reg::kConfigGeneration); }

    // Runs `read` (which reads config fields into the caller's variables)
    // until ConfigGeneration is the same before and after (section 2.5.1),
    // so multi-field and 64-bit values are consistent. TimedOut if the
    // device keeps changing its config for kConfigRetries rounds.
    template <typename F>
    Result<void> read_config_consistent(F&& read) const {
        for (uint32_t i = 0; i < kConfigRetries; ++i) {
            uint32_t before = config_generation();
            read();
            if (config_generation() == before) return {};
        }
        return Error::TimedOut;
    }

private:
    MmioTransport(MmioWindow window, uint32_t device_id, uint32_t vendor_id)
        : m_window(window), m_device_id(device_id), m_vendor_id(vendor_id) {}

    void set_status_bits(uint32_t bits);
    void select_queue(uint16_t index) const { m_window.write32(reg::kQueueSel, index); }

    MmioWindow m_window;
    uint32_t m_device_id = 0;
    uint32_t m_vendor_id = 0;
    uint64_t m_features = 0;
};

// Probes `window` into `transport`, requires DeviceID `device_id` (else
// WrongType) and runs the device's own `bring_up()`; if that fails, tells the
// device the driver gave up (FAILED, section 3.1.1) and returns its error.
template <typename BringUp>
Result<void> open_device(MmioTransport& transport, MmioWindow window, uint32_t device_id, BringUp&& bring_up) {
    transport = TRY(MmioTransport::create(window));
    if (transport.device_id() != device_id) return Error::WrongType;
    Result<void> up = bring_up();
    if (!up.ok()) {
        transport.fail();
        return up.error();
    }
    return {};
}

}  // namespace ringlet::virtio
