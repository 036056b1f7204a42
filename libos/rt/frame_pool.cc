#include "libos/rt/frame_pool.h"

#include "libos/rt/panic.h"

namespace ringlet::rt {

namespace {
// Per core (a host thread acts as one; on Ringlet tp addresses each core's block).
thread_local FramePool* g_current = nullptr;
}  // namespace

Result<FramePool> FramePool::create(void* arena, size_t size) {
    if (arena == nullptr || (reinterpret_cast<uintptr_t>(arena) & 15) != 0) return Error::InvalidArgument;
    if (size < kMinFrame + kHeader) return Error::InvalidArgument;
    FramePool pool;
    pool.m_next = static_cast<uint8_t*>(arena);
    pool.m_end = pool.m_next + size;
    return pool;
}

void* FramePool::allocate(size_t size) {
    const size_t need = size + kHeader;
    uint32_t cls = 0;
    while (cls < kClasses && class_size(cls) < need) ++cls;
    if (cls == kClasses) return nullptr;
    uint8_t* block = nullptr;
    if (m_free[cls] != nullptr) {
        block = reinterpret_cast<uint8_t*>(m_free[cls]);
        m_free[cls] = m_free[cls]->next;
    } else {
        if (static_cast<size_t>(m_end - m_next) < class_size(cls)) return nullptr;
        block = m_next;
        m_next += class_size(cls);
    }
    auto* h = reinterpret_cast<Header*>(block);
    h->pool = this;
    h->cls = cls;
    h->magic = kMagic;
    ++m_live;
    return block + kHeader;
}

void FramePool::release(void* frame) {
    if (frame == nullptr) return;
    uint8_t* block = static_cast<uint8_t*>(frame) - kHeader;
    auto* h = reinterpret_cast<Header*>(block);
    // A bad header means memory corruption or a foreign pointer: an invariant
    // is broken and continuing would corrupt the free lists.
    if (h->magic != kMagic || h->cls >= kClasses) panic("FramePool::release: bad frame header (corrupt or foreign pointer)");
    FramePool* pool = h->pool;
    const uint32_t cls = h->cls;
    h->magic = 0;  // catches a double release
    auto* f = reinterpret_cast<FreeFrame*>(block);
    f->next = pool->m_free[cls];
    pool->m_free[cls] = f;
    --pool->m_live;
}

FramePool* FramePool::current() { return g_current; }

void FramePool::install(FramePool* pool) { g_current = pool; }

}  // namespace ringlet::rt
