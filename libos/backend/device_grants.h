// What the kernel grants a libOS driver: a device claimed by slot index with
// its MMIO page mapped, and physically contiguous DMA frames mapped with their
// physical address. Every libOS device backend (network, block) takes its
// device this way.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::backend {

// virtio DeviceID values (virtio 1.2 section 5) read at MMIO offset 0x008.
inline constexpr uint32_t kVirtioNetId = 1;
inline constexpr uint32_t kVirtioBlkId = 2;

struct ClaimedDevice {
    uint64_t cap = 0;    // the device capability (MMIO page + IRQ)
    uint64_t index = 0;  // its slot in the kernel's device table
};

// Claims the first unclaimed virtio-mmio device whose DeviceID is
// `device_id` and leaves its MMIO page mapped read-write at `va` (page
// aligned, unused). Devices of other types are released again. NotFound if
// no such device is free; the syscall's error if the final mapping fails.
Result<ClaimedDevice> claim_virtio_device(uint32_t device_id, uint64_t va);

// Allocates `pages` physically contiguous, zeroed frames, maps them
// read-write at `va` and returns their physical address. The frame cap is
// kept for the app's lifetime (the kernel reclaims it at exit).
Result<uint64_t> map_contiguous(uint64_t pages, uint64_t va);

}  // namespace ringlet::backend
