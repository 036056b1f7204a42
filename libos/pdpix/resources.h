// What demi_init needs from the environment: a backend and the memory for
// coroutine frames and DMA buffers. The host implementation
// (backend/host_resources.cc) mmaps both and picks loopback or linux; the
// Ringlet one will take memory the kernel granted and the virtio backend.
#pragma once

#include <stddef.h>

#include "libos/pdpix/queue.h"
#include "libos/pdpix/storage.h"
#include "ringlet/result.h"

namespace ringlet::pdpix {

struct Resources {
    Backend* backend = nullptr;
    void* frame_arena = nullptr;
    size_t frame_bytes = 0;
    void* dma_region = nullptr;
    size_t dma_bytes = 0;
    Storage* storage = nullptr;        // the machine's block device; null: none
    rt::Platform* platform = nullptr;  // where the core sleeps; null: the backend's
    uint32_t core = 0;                 // this core's index (< LibOs::kMaxCores): its qds carry it
    void* libos_memory = nullptr;      // sizeof(LibOs) bytes for this core's LibOs (null: demi_init's slot)
};

// Acquires everything for backend `name` (nullptr: the environment's
// RINGLET_BACKEND, else the default) for the calling core: each core of an
// app (each thread on the host) runs its own libOS instance. NotFound for an
// unknown name; Full beyond LibOs::kMaxCores cores.
Result<Resources> acquire_resources(const char* name);

// Whether the calling core may give back what it acquired now (before
// demi shutdown tears anything down). Busy, nothing changed, if not: on
// Ringlet core 0 closes last and a core driving its own device queue pair
// not at all (backend/close_order.h). On success the core must release.
Result<void> begin_release(const Resources& r);

// Returns what acquire_resources() handed out.
void release_resources(Resources& r);

}  // namespace ringlet::pdpix
