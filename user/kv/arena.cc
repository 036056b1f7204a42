#include "user/kv/arena.h"

namespace kv {

Arena::Arena(void* region, size_t bytes) : m_base(static_cast<uint8_t*>(region)), m_size(bytes) {
    // Blocks are carved at 16-byte alignment from the start of the region.
    const uintptr_t misalign = reinterpret_cast<uintptr_t>(m_base) & 15;
    if (misalign != 0) {
        m_base += 16 - misalign;
        m_size = m_size > 16 - misalign ? m_size - (16 - misalign) : 0;
    }
}

void* Arena::alloc(size_t n) {
    unsigned shift = kMinShift;
    while (shift <= kMaxShift && (size_t{1} << shift) < n + kHeader) ++shift;
    if (shift > kMaxShift) return nullptr;
    const size_t size = size_t{1} << shift;
    uint8_t* block;
    if (FreeBlock* f = m_free[shift]) {
        m_free[shift] = f->next;
        block = reinterpret_cast<uint8_t*>(f);
    } else {
        if (m_size - m_carved < size) return nullptr;
        block = m_base + m_carved;
        m_carved += size;
    }
    *reinterpret_cast<uint64_t*>(block) = shift;
    m_in_use += size;
    return block + kHeader;
}

void Arena::free(void* p) {
    if (p == nullptr) return;
    uint8_t* block = static_cast<uint8_t*>(p) - kHeader;
    const unsigned shift = static_cast<unsigned>(*reinterpret_cast<uint64_t*>(block));
    auto* f = reinterpret_cast<FreeBlock*>(block);
    f->next = m_free[shift];
    m_free[shift] = f;
    m_in_use -= size_t{1} << shift;
}

size_t Arena::usable(const void* p) const {
    const uint8_t* block = static_cast<const uint8_t*>(p) - kHeader;
    return (size_t{1} << *reinterpret_cast<const uint64_t*>(block)) - kHeader;
}

}  // namespace kv
