#include "libos/mem/dma_heap.h"

#include "libos/rt/panic.h"

namespace ringlet::mem {

namespace {
constexpr size_t kGranule = DmaHeap::kMinBlock;
}

Result<DmaHeap> DmaHeap::create(void* region, size_t size) {
    if (region == nullptr || (reinterpret_cast<uintptr_t>(region) & 63) != 0) return Error::InvalidArgument;
    // The map covers every granule the region could hold; it takes 1/128 of
    // the region, rounded up to whole granules so blocks stay aligned.
    const size_t map_bytes = (size / kGranule * sizeof(uint16_t) + kGranule - 1) / kGranule * kGranule;
    if (size < map_bytes + kMinBlock) return Error::InvalidArgument;
    DmaHeap h;
    h.m_map = static_cast<uint16_t*>(region);
    h.m_base = static_cast<uint8_t*>(region) + map_bytes;
    h.m_next = h.m_base;
    h.m_end = static_cast<uint8_t*>(region) + size;
    return h;
}

Result<Buffer*> DmaHeap::carve(uint32_t cls, size_t len) {
    // Every block size is a multiple of the granule, so blocks start on
    // granule boundaries (and 64-byte aligned).
    if (static_cast<size_t>(m_end - m_next) < block_size(cls)) return Error::OutOfMemory;
    auto* b = reinterpret_cast<Buffer*>(m_next);
    const size_t first = static_cast<size_t>(m_next - m_base) / kGranule;
    for (size_t g = 0; g < block_size(cls) / kGranule; ++g) m_map[first + g] = static_cast<uint16_t>(g);
    m_next += block_size(cls);
    return init_live(b, cls, len);
}

Result<Buffer*> DmaHeap::peer_owner_of(const uint8_t* p) {
    if (p == nullptr) return Error::BadAddress;
    // A buffer lent by another core's heap (set_peers), else foreign.
    for (uint32_t i = 0; i < m_peer_count; ++i) {
        DmaHeap* peer = m_peers[i];
        if (peer != nullptr && peer != this && p >= peer->m_base && p < peer->m_next) return peer->own_buffer_of(p);
    }
    return Error::BadAddress;
}

void DmaHeap::release_last(Buffer* b) {
    // Dropping a reference nobody holds means a libOS bug: stop before the
    // free lists are corrupted.
    if (b->magic != kLive || b->refs == 0) rt::panic("DmaHeap::release: buffer not live or no reference held");
    if (b->refs > 1) {
        --b->refs;
        return;
    }
    if (m_give_back != nullptr && !contains(b)) {
        m_give_back(m_give_back_ctx, b);  // a peer's buffer: its last reference goes home
        return;
    }
    b->refs = 0;
    b->magic = kFree;
    b->app_owned = false;
    b->next = m_free[b->cls];
    m_free[b->cls] = b;
    --m_live;
    m_bytes_live -= block_size(b->cls);
}

}  // namespace ringlet::mem
