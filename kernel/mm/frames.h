// The machine's one FrameAllocator. Set up once by the boot hart before any
// other hart runs; afterwards any hart may call it (it locks internally).
#pragma once

#include "kernel/mm/frame_allocator.h"

namespace ringlet {
FrameAllocator& frames();

// One frame, from this hart's FrameCache (kernel/mm/frame_cache.h; the
// shared pool's lock is taken once per batch), or from the pool itself
// before per-hart state exists. Not zeroed.
Result<uint64_t> alloc_frame();
// Gives frames back: a single one to this hart's cache, a run to the pool.
Result<void> free_frames(uint64_t pa, size_t count);
}
