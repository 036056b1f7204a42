// DMA pbufs: lwIP custom pbufs whose payload lives in a DMA-heap Buffer, so
// received frames and pushed payloads cross lwIP without a copy.
//
// Each wrapper holds one reference to its Buffer and drops it when lwIP frees
// the pbuf. Two kinds:
// - in place: the pbuf is built inside the Buffer's own header (its `stack`
//   scratch), just before the data. lwIP then treats it as contiguous memory
//   (like PBUF_RAM) and prepends headers into the headroom in front of the
//   payload - a pushed datagram leaves as one descriptor, a received frame
//   can be answered in place. One per buffer at a time.
// - pooled: PBUF_REF from a fixed pool, for a buffer whose in-place wrapper
//   is busy or that has no headroom; lwIP then chains its headers in front.
// lwIP bounds header growth only by the pbuf struct's own address, which
// for an in-place wrapper is 8 bytes before data(): callers ask for in place
// only when the headroom holds every header lwIP will add.
// References go back to the heap attached with attach_heap(); after
// detach_heap() (the libOS heap is being torn down) a freed wrapper only
// returns to the pool.
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
// over one reference to b; in place if `in_place` and b's in-place wrapper
// is free, else pooled. On failure (no wrapper left, len 0 or beyond the
// buffer, len > 65535) the reference is dropped and nullptr is returned.
pbuf* wrap_dma(mem::Buffer* b, uint32_t offset, uint32_t len, bool in_place = false);

// b's in-place wrapper over b->data()[offset, offset + len), taking a new
// reference to b; nullptr (nothing changed) if the wrapper is busy or the
// slice is empty, too long or outside the buffer. The send fast path's
// segment (net/tcp_fast_path.h): wrap_dma's in-place case without its
// pooled fallback.
pbuf* wrap_in_place(mem::Buffer* b, uint32_t offset, uint32_t len);

// Frees p if it is an in-place wrapper with no other reference and nothing
// chained (as pbuf_free would: the buffer's reference goes back); false,
// nothing done, otherwise.
bool free_if_in_place(pbuf* p);

// If p is a DMA pbuf whose payload still lies inside its Buffer, the buffer
// and the payload's offset in its data(); false otherwise.
bool dma_segment(const pbuf* p, mem::Buffer** b, uint32_t* offset);

// Whether p is b's in-place wrapper (headers lwIP added are in b's memory).
bool is_in_place(const pbuf* p);

// The RX starvation policy: received buffers are lent to the app (zero
// copy) while at least a quarter of the heap is free; beyond that a payload
// is copied into a buffer of its own size and its RX buffer goes back at
// once, so an app that holds what it pops cannot leave the NIC without
// buffers to receive into. Each such copy is counted (DataplaneStats).
inline constexpr uint32_t kLendLimitPercent = 75;
inline bool may_lend_rx(const mem::DmaHeap& heap) {
    return heap.bytes_live() * 100 < heap.bytes_total() * kLendLimitPercent;
}

// Wrappers handed out now (for leak checks), pooled and in place.
uint32_t dma_pbufs_live();

}  // namespace ringlet::net
