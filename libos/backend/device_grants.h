// What the kernel grants a libOS driver: a device cap the app started with
// (the boot line names which app gets which device) with its MMIO page
// mapped, and physically contiguous DMA frames from the app's memory cap,
// mapped, with their physical address. Every libOS device backend (network,
// block) takes its device this way.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::backend {

// virtio DeviceID values (virtio 1.2 section 5) read at MMIO offset 0x008.
inline constexpr uint32_t kVirtioNetId = 1;
inline constexpr uint32_t kVirtioBlkId = 2;

struct ClaimedDevice {
    uint64_t cap = 0;    // the device capability (MMIO page + IRQ)
    uint64_t index = 0;  // its virtio-mmio slot (FDT order)
};

// Takes the first device cap among the app's start capabilities whose
// virtio DeviceID is `device_id` and that is not mapped yet, and leaves its
// MMIO page mapped read-write at `va` (page aligned, unused). Devices of
// other types are unmapped again. NotFound if the app holds no such device.
Result<ClaimedDevice> claim_virtio_device(uint32_t device_id, uint64_t va);

// Allocates `pages` physically contiguous, zeroed frames (from the app's
// memory cap, user::memory_cap()), maps them
// read-write at `va` and returns their physical address. The frame cap is
// kept for the app's lifetime (the kernel reclaims it at exit).
Result<uint64_t> map_contiguous(uint64_t pages, uint64_t va);

}  // namespace ringlet::backend
