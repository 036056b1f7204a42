// The per-core pieces of the Ringlet resources (ringlet_resources.cc) that
// the per-core storage (ringlet_storage.cc) and the network device
// (ringlet_network.cc) build on: where each core's window lies, which core is
// calling, how many the app was placed on, each core's DMA region and
// platform, the mesh between core 0 and the others and each core's
// doorbell on it. Internal to the libOS's Ringlet backend.
#pragma once

#include <stdint.h>

#include "drivers/virtio/virtqueue.h"
#include "libos/backend/core_mesh.h"
#include "libos/backend/net_core.h"
#include "libos/backend/sleep_hooks.h"
#include "libos/pdpix/storage.h"
#include "ringlet/result.h"

namespace ringlet::pdpix {

// Cores one app may have a libOS instance on.
inline constexpr uint32_t kRingletCores = backend::kNetCores;
// Notification bits: the network's interrupt, the disk's, a core's doorbell.
inline constexpr uint32_t kNetNotifyBit = 0;
inline constexpr uint32_t kBlkNotifyBit = 1;
inline constexpr uint32_t kDoorbellBit = 2;

// Where the backend maps what the kernel grants (user half, away from the
// app; the disk's window is at 0x31_0000_0000, see blk_queue.cc): one
// 256 MiB window per core, laid out alike.
inline constexpr uint64_t kCoreVa = 0x3000000000ull;
inline constexpr uint64_t kCoreStride = 0x10000000ull;
inline constexpr uint64_t kDeviceVa = kCoreVa;  // the NIC's registers: core 0's window only
inline constexpr uint64_t kRingOff = 0x100000;  // core 0: the NIC's rings
inline constexpr uint64_t kDmaOff = 0x1000000;
inline constexpr uint64_t kLwipOff = 0x2000000;
inline constexpr uint64_t kFramesOff = 0x3000000;
inline constexpr uint64_t kLibOsOff = 0x4000000;
inline constexpr uint64_t kMeshOff = 0x5000000;
inline uint64_t ringlet_core_va(uint32_t core, uint64_t off) { return kCoreVa + core * kCoreStride + off; }

// The calling core's index (the order of their first demi_init).
uint32_t ringlet_this_core();
// The harts the app was placed on (app_harts), 1..kRingletCores.
uint32_t ringlet_placed_cores();
// Core `core`'s DMA region, mapped on first use.
Result<virtio::DmaSpan> ringlet_dma_region(uint32_t core);
// The mesh over `cores` cores, made on first use (by core 0, before any
// other core starts); nullptr from ringlet_mesh_if_any() until then.
Result<backend::CoreMesh*> ringlet_mesh(uint32_t cores);
backend::CoreMesh* ringlet_mesh_if_any();
// Rings core `to`'s doorbell from core `from` (the reset notes of a
// multiqueue disk, blk_recovery.h, wake their receiver with it).
void ringlet_ring_doorbell(void* ctx, uint32_t from, uint32_t to);
// Core `core`'s doorbell: its channel to core 0 (core >= 1) and the sleep
// hook that raises its flag on the mesh before it sleeps. Once per core.
Result<void> ringlet_doorbell(uint32_t core);
// Adds `hook` on notification bit `bit` of core `core`'s platform.
Result<void> ringlet_add_sleep_hook(uint32_t core, backend::SleepHook& hook, uint32_t bit);

// The storage every core's LibOs opens its storage queue from.
Storage& ringlet_storage();

}  // namespace ringlet::pdpix
