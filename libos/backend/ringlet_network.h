// What the Ringlet resources (ringlet_resources.cc) take from the network
// device's side (ringlet_network.cc). Internal to the libOS's Ringlet
// backend.
#pragma once

#include <stdint.h>

#include "drivers/virtio/virtqueue.h"
#include "libos/backend/ringlet_platform.h"
#include "net/netif.h"
#include "net/virtio_nic.h"
#include "ringlet/result.h"

namespace ringlet::pdpix {

// Core 0: the NIC as core 0's stack sees it - claimed and brought up on the
// first call, over `dma` (core 0's DMA region). NotFound if the machine has
// none; the device's error if it would not come up (the next call tries
// again).
Result<net::NicPort*> ringlet_network_port(const virtio::DmaSpan& dma);
// Whether core 0 has brought the NIC up.
bool ringlet_network_up();
// Whether the device steers (RSS took a queue pair per core); otherwise core
// 0 steers over one queue pair.
bool ringlet_device_steers();
// Core `core` (>= 1) with the device steering: its own queue pair, posted
// from and sending from `dma` (its region), armed by a hook on the doorbell
// bit of `platform` (which then sleeps at most 100 ms: core 0 holds the
// line). Returns the core's NicPort.
Result<net::NicPort*> ringlet_open_pair(uint32_t core, const virtio::DmaSpan& dma, backend::RingletPlatform& platform);
// The VirtioNic core `core` drives (core 0: the device's; another core: its
// own pair), or nullptr.
net::VirtioNic* ringlet_core_nic(uint32_t core);

}  // namespace ringlet::pdpix
