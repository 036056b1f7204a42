#include "kernel/mm/frame_allocator.h"

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

void FrameAllocator::set(size_t bit, bool used) {
    uint64_t mask = 1ull << (bit % 64);
    if (used) m_bitmap[bit / 64] |= mask;
    else m_bitmap[bit / 64] &= ~mask;
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
                uint64_t pa = r.base + f * kFrameSize;
                if (pa % align) {
                    f += (align - pa % align) / kFrameSize;
                    continue;
                }
                size_t run = 0;
                while (run < count && !test(r.first_bit + f + run)) ++run;
                if (run == count) {
                    for (size_t k = 0; k < count; ++k) set(r.first_bit + f + k, true);
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

Result<void> FrameAllocator::free(uint64_t pa, size_t count) {
    SpinGuard guard(m_lock);
    size_t bit = TRY(locate(pa, count));
    for (size_t k = 0; k < count; ++k)
        if (!test(bit + k)) return Error::InvalidArgument;  // not allocated: double free or foreign
    for (size_t k = 0; k < count; ++k) set(bit + k, false);
    m_free += count;
    return {};
}

Result<void> FrameAllocator::reserve(uint64_t pa, uint64_t size) {
    uint64_t first = pa & ~(kFrameSize - 1);
    size_t count = (pa + size - first + kFrameSize - 1) / kFrameSize;
    SpinGuard guard(m_lock);
    size_t bit = TRY(locate(first, count));
    for (size_t k = 0; k < count; ++k)
        if (test(bit + k)) return Error::Busy;
    for (size_t k = 0; k < count; ++k) set(bit + k, true);
    m_free -= count;
    return {};
}

}  // namespace ringlet
