#include "kernel/mm/frame_allocator.h"

#include "ringlet/bits.h"

namespace ringlet {

size_t FrameAllocator::bitmap_bytes(const PhysRange* ranges, size_t count) {
    size_t frames = 0;
    for (size_t i = 0; i < count; ++i) frames += ranges[i].size / kFrameSize;
    return (frames + 63) / 64 * 8;
}

Result<void> FrameAllocator::init(const PhysRange* ranges, size_t count, uint64_t* bitmap, size_t bitmap_size) {
    if (count > kMaxRanges) return Error::InvalidArgument;
    if (bitmap_size < bitmap_bytes(ranges, count)) return Error::InvalidArgument;
    for (size_t i = 0; i < count; ++i) {
        if ((ranges[i].base | ranges[i].size) % kFrameSize) return Error::InvalidArgument;
        if (ranges[i].base + ranges[i].size < ranges[i].base) return Error::InvalidArgument;
        for (size_t j = 0; j < i; ++j)
            if (ranges[i].base < ranges[j].end() && ranges[j].base < ranges[i].end()) return Error::InvalidArgument;
    }
    SpinGuard guard(m_lock);
    m_range_count = 0;
    m_total = 0;
    for (size_t i = 0; i < count; ++i) {
        if (ranges[i].size == 0) continue;
        m_ranges[m_range_count++] = Range{ranges[i].base, ranges[i].size / kFrameSize, m_total};
        m_total += ranges[i].size / kFrameSize;
    }
    m_bitmap = bitmap;
    for (size_t w = 0; w < (m_total + 63) / 64; ++w) m_bitmap[w] = 0;
    m_free = m_total;
    m_hint = 0;
    return {};
}

// The bitmap is walked a word (64 frames) at a time, so the allocator's
// lock is held for a scan over words, not frames: a 4 MiB run is 16 words.

void FrameAllocator::set_run(size_t bit, size_t count, bool used) {
    while (count > 0) {
        const size_t offset = bit % 64;
        const size_t n = count < 64 - offset ? count : 64 - offset;
        const uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << offset;
        const uint64_t word = used ? m_bitmap[bit / 64] | mask : m_bitmap[bit / 64] & ~mask;
        __atomic_store_n(&m_bitmap[bit / 64], word, __ATOMIC_RELAXED);  // read unlocked by is_allocated
        bit += n;
        count -= n;
    }
}

size_t FrameAllocator::run_of(size_t bit, size_t max, bool used) const {
    size_t run = 0;
    while (run < max) {
        const size_t offset = (bit + run) % 64;
        uint64_t word = m_bitmap[(bit + run) / 64] >> offset;  // bit 0: frame bit + run
        if (!used) word = ~word;                            // now: 1 = in the run
        const uint64_t valid = offset == 0 ? ~0ull : ~0ull >> offset;
        const uint64_t stop = ~word & valid;
        const size_t here = stop ? count_trailing_zeros(stop) : 64 - offset;
        run += here;
        if (stop) break;
    }
    return run < max ? run : max;
}

Result<size_t> FrameAllocator::locate(uint64_t pa, size_t count) const {
    if (pa % kFrameSize || count == 0) return Error::InvalidArgument;
    for (size_t i = 0; i < m_range_count; ++i) {
        const Range& r = m_ranges[i];
        uint64_t end = r.base + r.frames * kFrameSize;
        if (pa >= r.base && pa < end) {
            if (count > (end - pa) / kFrameSize) return Error::OutOfRange;
            return r.first_bit + (pa - r.base) / kFrameSize;
        }
    }
    return Error::NotFound;
}

Result<uint64_t> FrameAllocator::alloc(size_t count, uint64_t align) {
    if (count == 0 || align < kFrameSize || (align & (align - 1))) return Error::InvalidArgument;
    SpinGuard guard(m_lock);
    return alloc_locked(count, align);
}

Result<uint64_t> FrameAllocator::alloc_locked(size_t count, uint64_t align) {
    if (count > m_free) return Error::OutOfMemory;
    // Two passes of next-fit: from the hint to the end, then from the start.
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < m_range_count; ++i) {
            const Range& r = m_ranges[i];
            size_t start = 0;
            if (pass == 0) {
                if (m_hint >= r.first_bit + r.frames) continue;
                if (m_hint > r.first_bit) start = m_hint - r.first_bit;
            }
            for (size_t f = start; f + count <= r.frames;) {
                f += run_of(r.first_bit + f, r.frames - f, true);  // past used frames
                if (f + count > r.frames) break;
                uint64_t pa = r.base + f * kFrameSize;
                if (pa % align) {
                    f += (align - pa % align) / kFrameSize;
                    continue;
                }
                size_t run = run_of(r.first_bit + f, count, false);
                if (run == count) {
                    set_run(r.first_bit + f, count, true);
                    m_free -= count;
                    m_hint = r.first_bit + f + count;
                    return pa;
                }
                f += run + 1;  // skip past the used frame that ended the run
            }
        }
    }
    return Error::OutOfMemory;
}

Result<size_t> FrameAllocator::alloc_pieces(size_t count, FramePiece* out, size_t max_pieces) {
    if (count == 0) return Error::InvalidArgument;
    {
        SpinGuard guard(m_lock);
        if (count > m_free) return Error::OutOfMemory;  // no point in cutting it up
    }
    size_t pieces = 0;
    size_t left = count;
    size_t want = count;
    auto give_back = [&] {
        for (size_t i = 0; i < pieces; ++i) (void)free(out[i].pa, out[i].count);
    };
    while (left > 0) {
        if (want > left) want = left;
        Result<uint64_t> pa = alloc(want);
        if (!pa) {
            if (pa.error() != Error::OutOfMemory || want == 1) {
                give_back();
                return pa.error();
            }
            want /= 2;  // no run that long: try half (a larger one stays unlikely)
            continue;
        }
        if (pieces == max_pieces) {
            (void)free(*pa, want);
            give_back();
            return Error::Full;
        }
        out[pieces++] = FramePiece{*pa, want};
        left -= want;
    }
    return pieces;
}

size_t FrameAllocator::alloc_batch(uint64_t* out, size_t max) {
    SpinGuard guard(m_lock);
    size_t n = 0;
    for (; n < max; ++n) {
        Result<uint64_t> pa = alloc_locked(1, kFrameSize);
        if (!pa) break;
        out[n] = *pa;
    }
    return n;
}

void FrameAllocator::free_batch(const uint64_t* frames, size_t count) {
    SpinGuard guard(m_lock);
    for (size_t i = 0; i < count; ++i) {
        Result<size_t> bit = locate(frames[i], 1);
        if (!bit || run_of(*bit, 1, true) != 1) continue;
        set_run(*bit, 1, false);
        ++m_free;
    }
}

bool FrameAllocator::is_allocated(uint64_t pa) const {
    // Without the lock: a frame's bit changes only when its owner frees it
    // (this caller) or the pool hands it out (it is then allocated); the
    // word's other bits may change meanwhile, which set_run's whole-word
    // atomic stores make harmless to read.
    Result<size_t> bit = locate(pa, 1);
    return bit && (__atomic_load_n(&m_bitmap[*bit / 64], __ATOMIC_RELAXED) >> (*bit % 64) & 1);
}

Result<void> FrameAllocator::free(uint64_t pa, size_t count) {
    SpinGuard guard(m_lock);
    size_t bit = TRY(locate(pa, count));
    if (run_of(bit, count, true) != count) return Error::InvalidArgument;  // not allocated: double free or foreign
    set_run(bit, count, false);
    m_free += count;
    return {};
}

Result<void> FrameAllocator::reserve(uint64_t pa, uint64_t size) {
    uint64_t first = pa & ~(kFrameSize - 1);
    size_t count = (pa + size - first + kFrameSize - 1) / kFrameSize;
    SpinGuard guard(m_lock);
    size_t bit = TRY(locate(first, count));
    if (run_of(bit, count, false) != count) return Error::Busy;
    set_run(bit, count, true);
    m_free -= count;
    return {};
}

}  // namespace ringlet
