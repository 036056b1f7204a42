#include "kernel/cap/device_reset.h"

namespace ringlet {

Result<void> reset_virtio_mmio(DeviceRegs& regs, uint32_t max_polls) {
    if (regs.read32(kVirtioMmioMagicOffset) != kVirtioMmioMagic) return Error::NotFound;
    if (regs.read32(kVirtioMmioDeviceIdOffset) == 0) return Error::NotFound;  // an empty slot
    regs.write32(kVirtioMmioStatusOffset, 0);  // §4.2.2.1: writing 0 resets the device
    for (uint32_t i = 0; i < max_polls; ++i)
        if (regs.read32(kVirtioMmioStatusOffset) == 0) return {};  // §2.4.1: reset is complete
    return Error::TimedOut;
}

}  // namespace ringlet
