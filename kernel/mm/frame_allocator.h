// The physical frame allocator: one bit per 4 KiB frame of usable memory,
// with contiguous, aligned allocations (DMA rings need them). The bitmap lives
// in memory the caller provides (at boot, carved from usable RAM itself).
//
// One instance serves the whole machine, so it has a lock (a leaf: nothing
// else is taken under it, kernel/cap/machine_caps.h); any hart may call it.
// It is held only for a word-wise scan or update of the bitmap; frames are
// zeroed by their users, outside it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "kernel/lib/spin_lock.h"
#include "ringlet/result.h"

namespace ringlet {

// One physically contiguous piece of a larger allocation (alloc_pieces).
struct FramePiece {
    uint64_t pa;
    size_t count;  // frames
};

class FrameAllocator {
public:
    static constexpr uint64_t kFrameSize = 4096;
    static constexpr size_t kMaxRanges = 16;

    // Bytes of bitmap needed to track `ranges` (each page-aligned).
    static size_t bitmap_bytes(const PhysRange* ranges, size_t count);

    // Takes over `ranges` (page-aligned, non-overlapping) with `bitmap` as
    // storage; every frame starts free. Fails on misaligned or overlapping
    // ranges, too many ranges, or storage smaller than bitmap_bytes().
    Result<void> init(const PhysRange* ranges, size_t count, uint64_t* bitmap, size_t bitmap_size);

    // Physical address of `count` free contiguous frames whose address is a
    // multiple of `align` bytes (a power of two >= 4096). OutOfMemory if none.
    Result<uint64_t> alloc(size_t count = 1, uint64_t align = kFrameSize);

    // `count` frames in as few contiguous pieces as fragmentation allows
    // (for memory that need not be contiguous, like an app's segments): the
    // whole run if there is one, else pieces halving in size down to one
    // frame, written to `out` in address order of the request → how many.
    // OutOfMemory if fewer than `count` frames are free, Full if more than
    // `max_pieces` pieces would be needed; either way nothing stays taken.
    Result<size_t> alloc_pieces(size_t count, FramePiece* out, size_t max_pieces);

    // Up to `max` single frames (anywhere) into `out`, under one lock
    // acquisition → how many (0: none free). For per-hart caches.
    size_t alloc_batch(uint64_t* out, size_t max);
    // Returns `count` single frames, under one lock acquisition; a frame not
    // allocated is skipped (callers hand back only frames they were given).
    void free_batch(const uint64_t* frames, size_t count);
    // Whether frame `pa` is one of the pool's and marked allocated (no lock:
    // for its owner, about to give it back).
    bool is_allocated(uint64_t pa) const;

    // Returns frames to the pool. A range not wholly allocated (double free,
    // foreign address) is refused and nothing changes.
    Result<void> free(uint64_t pa, size_t count = 1);

    // Marks [pa, pa+size) used (e.g. the bitmap's own frames). NotFound if
    // outside every range, Busy if already used.
    Result<void> reserve(uint64_t pa, uint64_t size);

    size_t free_frames() const { return m_free; }
    size_t total_frames() const { return m_total; }

private:
    struct Range {
        uint64_t base;
        size_t frames;
        size_t first_bit;  // index of this range's first frame in the bitmap
    };
    // Marks `count` frames from `bit` used or free, a word at a time.
    void set_run(size_t bit, size_t count, bool used);
    // How many frames from `bit` on (at most `max`) are all used / all free.
    size_t run_of(size_t bit, size_t max, bool used) const;
    Result<size_t> locate(uint64_t pa, size_t count) const;  // bitmap index, or error
    Result<uint64_t> alloc_locked(size_t count, uint64_t align);

    SpinLock m_lock;
    Range m_ranges[kMaxRanges] = {};
    size_t m_range_count = 0;
    uint64_t* m_bitmap = nullptr;
    size_t m_total = 0;
    size_t m_free = 0;
    size_t m_hint = 0;  // next-fit: search from where the last allocation ended
};

}  // namespace ringlet
