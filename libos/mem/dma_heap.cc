#include "libos/mem/dma_heap.h"

namespace ringlet::mem {

Result<DmaHeap> DmaHeap::create(void* region, size_t size) {
    if (region == nullptr || (reinterpret_cast<uintptr_t>(region) & 63) != 0 || size < kMinBlock) {
        return Error::InvalidArgument;
    }
    DmaHeap h;
    h.m_base = static_cast<uint8_t*>(region);
    h.m_next = h.m_base;
    h.m_end = h.m_base + size;
    return h;
}

Result<Buffer*> DmaHeap::alloc(size_t len) {
    uint32_t cls = 0;
    while (cls < kClasses && block_size(cls) - sizeof(Buffer) < len) ++cls;
    if (cls == kClasses) return Error::InvalidArgument;
    Buffer* b = m_free[cls];
    if (b != nullptr) {
        m_free[cls] = b->next;
    } else {
        // Blocks are aligned to their own size class's 64-byte multiple; the
        // bump pointer stays 64-byte aligned because every class is.
        if (static_cast<size_t>(m_end - m_next) < block_size(cls)) return Error::OutOfMemory;
        b = reinterpret_cast<Buffer*>(m_next);
        m_next += block_size(cls);
    }
    b->magic = kLive;
    b->refs = 1;
    b->cls = cls;
    b->len = static_cast<uint32_t>(len);
    b->capacity = block_size(cls) - sizeof(Buffer);
    b->next = nullptr;
    b->app_owned = true;
    ++m_live;
    return b;
}

Result<Buffer*> DmaHeap::app_buffer(void* data) {
    auto* p = static_cast<uint8_t*>(data);
    // Every block starts 64-byte aligned and data follows a 64-byte header.
    if (p == nullptr || !contains(p) || p < m_base + sizeof(Buffer) || p >= m_next ||
        (reinterpret_cast<uintptr_t>(p) & 63) != 0) {
        return Error::BadAddress;
    }
    auto* b = reinterpret_cast<Buffer*>(p - sizeof(Buffer));
    if (b->magic == kFree) return Error::InvalidArgument;
    if (b->magic != kLive || b->cls >= kClasses) return Error::BadAddress;  // inside a block, not its start
    if (!b->app_owned) return Error::InvalidArgument;                       // freed, push still in flight
    return b;
}

Result<void> DmaHeap::app_free(void* data) {
    Buffer* b = TRY(app_buffer(data));
    b->app_owned = false;
    release(b);
    return {};
}

void DmaHeap::release(Buffer* b) {
    // Dropping a reference nobody holds means a libOS bug: stop before the
    // free lists are corrupted.
    if (b->magic != kLive || b->refs == 0) __builtin_trap();
    if (--b->refs != 0) return;
    b->magic = kFree;
    b->app_owned = false;
    b->next = m_free[b->cls];
    m_free[b->cls] = b;
    --m_live;
}

}  // namespace ringlet::mem
