#include "kernel/mm/frame_cache.h"

namespace ringlet {

Result<uint64_t> FrameCache::alloc(FrameAllocator& pool) {
    if (m_count == 0) {
        m_count = pool.alloc_batch(m_frames, kBatch);
        if (m_count == 0) return Error::OutOfMemory;
    }
    return m_frames[--m_count];
}

Result<void> FrameCache::free(FrameAllocator& pool, uint64_t pa) {
    if (!pool.is_allocated(pa)) return Error::InvalidArgument;
    for (size_t i = 0; i < m_count; ++i)
        if (m_frames[i] == pa) return Error::InvalidArgument;
    if (m_count == kCapacity) spill(pool, kBatch);
    m_frames[m_count++] = pa;
    return {};
}

void FrameCache::spill(FrameAllocator& pool, size_t count) {
    // The oldest go back; the most recently freed (warm) stay.
    pool.free_batch(m_frames, count);
    for (size_t i = count; i < m_count; ++i) m_frames[i - count] = m_frames[i];
    m_count -= count;
}

void FrameCache::drain(FrameAllocator& pool) { spill(pool, m_count); }

}  // namespace ringlet
