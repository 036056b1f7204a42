// DMA pbufs: lwIP custom pbufs (PBUF_REF) whose payload lives in a DMA-heap
// Buffer, so received frames and UDP payloads cross lwIP without a copy.
//
// Each wrapper holds one reference to its Buffer and drops it when lwIP frees
// the pbuf. The wrappers come from one fixed pool (lwIP is one stack per
// process, so the pool is too). References go back to the heap attached with
// attach_heap(); after detach_heap() (the libOS heap is being torn down) a
// freed wrapper only returns to the pool.
#pragma once

#include <stdint.h>

#include "libos/mem/dma_heap.h"
#include "ringlet/result.h"

struct pbuf;

namespace ringlet::net {

inline constexpr uint32_t kDmaPbufs = 1024;

// The heap every wrapped Buffer belongs to; nullptr detaches.
void attach_heap(mem::DmaHeap* heap);
mem::DmaHeap* attached_heap();

// Wraps b->data()[offset, offset + len) as a pbuf (layer PBUF_RAW), taking
// over one reference to b. On failure (no wrapper left, len 0 or beyond the
// buffer, len > 65535) the reference is dropped and nullptr is returned.
pbuf* wrap_dma(mem::Buffer* b, uint32_t offset, uint32_t len);

// If p is a DMA pbuf whose payload still lies inside its Buffer, the buffer
// and the payload's offset in its data(); false otherwise.
bool dma_segment(const pbuf* p, mem::Buffer** b, uint32_t* offset);

// Wrappers handed out now (for leak checks).
uint32_t dma_pbufs_live();

}  // namespace ringlet::net
