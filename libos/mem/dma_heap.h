// DmaHeap: reference-counted I/O buffers carved from a region the kernel
// granted (mmap on Linux), the memory behind every demi_sgarray_t.
//
// Each buffer has a 64-byte header just before its data: a magic word, the
// reference count, whether the app still owns it, its size class and length.
// References: the app holds one from alloc (or pop) until demi_sgafree; a push
// holds one until the device is done. The buffer returns to its free list
// when the count reaches zero, so freeing an sga still in flight is deferred.
// Freestanding: no heap, no std containers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::mem {

struct Buffer {
    uint32_t magic;
    uint32_t refs;
    uint32_t cls;        // size class index
    uint32_t len;        // bytes of valid data
    uint64_t capacity;   // usable bytes after the header
    Buffer* next;        // link for free lists and for backends' queues
    bool app_owned;      // the app holds a reference (cleared by sgafree)
    uint8_t pad[15];
    uint8_t meta[16];    // backend scratch: a queued datagram's source address
    uint8_t* data() { return reinterpret_cast<uint8_t*>(this) + sizeof(Buffer); }
};
static_assert(sizeof(Buffer) == 64, "header keeps data cache-line aligned");

class DmaHeap {
public:
    static constexpr uint32_t kClasses = 10;      // 256 B .. 128 KiB blocks
    static constexpr size_t kMinBlock = 256;
    static constexpr uint32_t kLive = 0x444d414c;  // "DMAL"
    static constexpr uint32_t kFree = 0x444d4146;  // "DMAF"

    // A heap over [region, region + size). InvalidArgument if the region is
    // null, not 64-byte aligned or too small for one block.
    static Result<DmaHeap> create(void* region, size_t size);
    DmaHeap() = default;

    // A buffer with capacity >= len, owned by the app (one reference), or
    // OutOfMemory / InvalidArgument (len above the largest class).
    Result<Buffer*> alloc(size_t len);

    // The live buffer whose data starts at `data`: BadAddress if the pointer
    // is not a buffer of this heap, InvalidArgument if the buffer was freed
    // by the app (use after free, double free).
    Result<Buffer*> app_buffer(void* data);

    // Drops the app's reference (demi_sgafree); the memory is reused once
    // no push holds it. Errors as app_buffer().
    Result<void> app_free(void* data);

    // Takes one more reference (a push in flight).
    void retain(Buffer* b) { ++b->refs; }
    // Drops a reference; the last one returns the block to its free list.
    void release(Buffer* b);

    bool contains(const void* p) const {
        return reinterpret_cast<const uint8_t*>(p) >= m_base && reinterpret_cast<const uint8_t*>(p) < m_end;
    }
    uint32_t live() const { return m_live; }  // buffers with refs > 0
    size_t largest() const { return (kMinBlock << (kClasses - 1)) - sizeof(Buffer); }

private:
    static size_t block_size(uint32_t cls) { return kMinBlock << cls; }

    uint8_t* m_base = nullptr;
    uint8_t* m_next = nullptr;
    uint8_t* m_end = nullptr;
    Buffer* m_free[kClasses] = {};
    uint32_t m_live = 0;
};

// RAII reference for code that holds a buffer across suspension points (a
// push coroutine): cancellation destroys the frame, which drops it.
class BufferRef {
public:
    BufferRef() = default;
    // Takes a new reference to b.
    BufferRef(DmaHeap* h, Buffer* b) : m_heap(h), m_buf(b) {
        if (m_buf != nullptr) m_heap->retain(m_buf);
    }
    // Takes over a reference the caller already holds.
    static BufferRef adopt(DmaHeap* h, Buffer* b) {
        BufferRef r;
        r.m_heap = h;
        r.m_buf = b;
        return r;
    }
    BufferRef(BufferRef&& o) noexcept : m_heap(o.m_heap), m_buf(o.m_buf) { o.m_buf = nullptr; }
    BufferRef(const BufferRef&) = delete;
    BufferRef& operator=(const BufferRef&) = delete;
    BufferRef& operator=(BufferRef&&) = delete;
    ~BufferRef() {
        if (m_buf != nullptr) m_heap->release(m_buf);
    }
    Buffer* get() const { return m_buf; }

private:
    DmaHeap* m_heap = nullptr;
    Buffer* m_buf = nullptr;
};

}  // namespace ringlet::mem
