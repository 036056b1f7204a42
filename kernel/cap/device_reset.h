// Handing a device back: when the capability through which an app mapped a
// device's registers goes (delete, revoke, the app's end) and no other cap
// maps them — in particular when the last capability to it goes — the kernel
// resets the device before anything it may still write into is freed, so a
// buffer the app had posted is not written by DMA after its frames belong to
// someone else.
//
// virtio 1.2 §4.2.2.1 (virtio-mmio Status, offset 0x70): writing 0 resets the
// device; §2.4.1: the driver then waits until Status reads back 0 before it
// reuses the device — a device that keeps a non-zero status is still
// resetting (or broken) and may still be using its queues.
//
// Plain logic over a register accessor: host-tested with a fake device.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

inline constexpr uint32_t kVirtioMmioMagicOffset = 0x000;
inline constexpr uint32_t kVirtioMmioDeviceIdOffset = 0x008;
inline constexpr uint32_t kVirtioMmioStatusOffset = 0x070;
inline constexpr uint32_t kVirtioMmioMagic = 0x74726976;  // "virt"

// A device's register window as the kernel reaches it.
class DeviceRegs {
public:
    virtual uint32_t read32(uint32_t offset) = 0;
    virtual void write32(uint32_t offset, uint32_t value) = 0;

protected:
    ~DeviceRegs() = default;
};

// Resets the virtio-mmio device behind `regs`: Status := 0, then polls until
// it reads 0, at most `max_polls` times. NotFound when the window holds no
// virtio-mmio device (wrong magic) or an empty slot (DeviceID 0, §4.2.2):
// nothing to reset; TimedOut when the status never reads 0.
Result<void> reset_virtio_mmio(DeviceRegs& regs, uint32_t max_polls);

}  // namespace ringlet
