// A hart's cache of single free frames in front of the machine's
// FrameAllocator. One-frame allocations and frees (page tables, one-page
// frames) touch only the hart's own cache, with no lock (kernel code runs
// with interrupts off and only its hart touches its HartLocal); the cache
// refills kBatch frames at a time from the shared pool and spills kBatch back
// when full, so the pool's lock is taken once per batch, not per frame.
//
// Cached frames stay marked used in the pool's bitmap: to the pool they are
// this hart's until spilled.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/mm/frame_allocator.h"
#include "ringlet/result.h"

namespace ringlet {

class FrameCache {
public:
    static constexpr size_t kCapacity = 32;
    static constexpr size_t kBatch = 16;

    // A free frame: cached, or after a refill from `pool` (OutOfMemory if
    // the pool has none at all).
    Result<uint64_t> alloc(FrameAllocator& pool);
    // Takes back a frame `pool` handed out (to anyone: frames move between
    // harts with the apps that own them). InvalidArgument if the pool does
    // not count it as allocated or it is cached here already (a double free).
    Result<void> free(FrameAllocator& pool, uint64_t pa);
    // Gives every cached frame back to `pool`.
    void drain(FrameAllocator& pool);

    size_t cached() const { return m_count; }

private:
    void spill(FrameAllocator& pool, size_t count);

    uint64_t m_frames[kCapacity];
    size_t m_count = 0;
};

}  // namespace ringlet
