// Arena: the store's memory on Ringlet, where the app has no general heap
// (user/rt's heap is 1 MiB of small control objects). Power-of-two size
// classes carved from one region, each class with its own free list: O(1),
// no coalescing (a store of many similar values reuses blocks well; the
// waste is at most half a block). On Linux the store uses malloc instead
// (kv::mem_alloc in alloc.cc); this class is host-tested either way.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kv {

class Arena {
public:
    static constexpr unsigned kMinShift = 5;   // 32-byte blocks
    static constexpr unsigned kMaxShift = 24;  // 16 MiB blocks
    static constexpr size_t kHeader = 16;      // size class; keeps payloads 16-byte aligned

    Arena(void* region, size_t bytes);

    // n usable bytes, or nullptr when the region (or the class) is exhausted.
    void* alloc(size_t n);
    // Returns a block alloc() gave out (nullptr is ignored).
    void free(void* p);
    // Usable bytes of the block holding p.
    size_t usable(const void* p) const;

    size_t bytes_in_use() const { return m_in_use; }  // blocks handed out, headers included
    size_t bytes_total() const { return m_size; }

private:
    struct FreeBlock {
        FreeBlock* next;
    };
    uint8_t* m_base;
    size_t m_size;
    size_t m_carved = 0;
    size_t m_in_use = 0;
    FreeBlock* m_free[kMaxShift + 1] = {};
};

}  // namespace kv
