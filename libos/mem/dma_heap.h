// DmaHeap: reference-counted I/O buffers carved from a region the kernel
// granted (mmap on Linux), the memory behind every demi_sgarray_t.
//
// Each buffer has a 128-byte header just before its data: a magic word, the
// reference count, whether the app still owns it, its size class, where its
// valid bytes are, and a scratch area the network stack uses to wrap the
// buffer in place (net/dma_pbuf.h). References: the app holds one from alloc
// (or pop) until demi_sgafree; a push holds one until the device is done.
// The buffer returns to its free list when the count reaches zero, so
// freeing an sga still in flight is deferred.
//
// Zero-copy means an sga may point anywhere inside a buffer's data (a popped
// datagram starts after the frame headers it arrived with; sgaalloc leaves
// headroom for the headers a push prepends). owner_of() finds the buffer of
// any such pointer in O(1) through a granule map kept at the front of the
// region: one 16-bit entry per 256-byte granule saying how many granules back
// its block starts, written once when the block is carved (blocks are never
// split or merged). Freestanding: no heap, no std containers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::mem {

struct Buffer {
    uint32_t magic;
    uint32_t refs;
    uint32_t cls;        // size class index
    uint32_t len;        // bytes of valid data, from data() + off
    uint64_t capacity;   // usable bytes after the header
    Buffer* next;        // link for free lists and for backends' queues
    uint32_t off;        // where the valid data starts in data()
    bool app_owned;      // the app holds a reference (cleared by sgafree)
    uint8_t pad[3];
    uint8_t meta[16];    // backend scratch: a queued datagram's source address
    uint8_t pad2[8];
    // The network stack's per-buffer scratch (an lwIP pbuf built in place,
    // so headers can be prepended into the headroom without a copy). Free
    // for the stack's use while the buffer is live; never touched here.
    alignas(16) uint8_t stack[64];
    uint8_t* data() { return reinterpret_cast<uint8_t*>(this) + sizeof(Buffer); }
    uint8_t* begin() { return data() + off; }  // the valid bytes
};
static_assert(sizeof(Buffer) == 128, "header keeps data cache-line aligned");

class DmaHeap {
public:
    static constexpr uint32_t kClasses = 10;      // 256 B .. 128 KiB blocks
    static constexpr size_t kMinBlock = 256;
    static constexpr uint32_t kLive = 0x444d414c;  // "DMAL"
    static constexpr uint32_t kFree = 0x444d4146;  // "DMAF"
    // What demi_sgaalloc leaves free in front of the app's bytes: the
    // virtio-net header (12), Ethernet (14), IPv4 (20) and UDP (8) or TCP
    // (20, 66 in all) headers fit, so a datagram or a fast-path TCP segment
    // (net/tcp_fast_path.h) goes out from the app's buffer as one
    // descriptor. 128 keeps the app's bytes cache-line aligned.
    static constexpr uint32_t kHeadroom = 128;

    // A heap over [region, region + size). InvalidArgument if the region is
    // null, not 64-byte aligned or too small for its map and one block.
    static Result<DmaHeap> create(void* region, size_t size);
    DmaHeap() = default;

    // A buffer with capacity >= len, owned by the app (one reference), or
    // OutOfMemory / InvalidArgument (len above the largest class). Its valid
    // bytes are [data(), data() + len).
    // Inline: the class of a constant len (the NIC's RX buffers) folds at
    // compile time, and a free block of it is a pop; carving a new block
    // goes out of line.
    Result<Buffer*> alloc(size_t len) {
        const uint32_t cls = class_of(len);
        if (cls == kClasses) return Error::InvalidArgument;
        Buffer* b = m_free[cls];
        if (b == nullptr) [[unlikely]] return carve(cls, len);
        m_free[cls] = b->next;
        return init_live(b, cls, len);
    }

    // The live buffer whose data holds `p` (anywhere in [data(), data() +
    // capacity)): BadAddress if the pointer is not inside a buffer's data
    // (foreign, in a header, never handed out), InvalidArgument if that
    // buffer is free.
    // Inline (every push and every sgafree asks): a pointer into this
    // heap is one map lookup; another core's (set_peers) goes out of line.
    Result<Buffer*> owner_of(const void* ptr) {
        const auto* p = static_cast<const uint8_t*>(ptr);
        if (p >= m_base && p < m_next) [[likely]] return own_buffer_of(p);
        return peer_owner_of(p);
    }

    // owner_of(), and the app must still own it: InvalidArgument if the app
    // freed it (use after free, double free).
    Result<Buffer*> app_buffer(const void* p) {
        Buffer* b = TRY(owner_of(p));
        if (!b->app_owned) return Error::InvalidArgument;  // freed, push still in flight
        return b;
    }

    // Drops the app's reference (demi_sgafree) to the buffer holding `p`; the
    // memory is reused once no push holds it. Errors as app_buffer().
    // Drops the app's reference (demi_sgafree) to the buffer holding `p`; the
    // memory is reused once no push holds it. Errors as app_buffer().
    Result<void> app_free(const void* p) {
        Buffer* b = TRY(app_buffer(p));
        b->app_owned = false;
        release(b);
        return {};
    }
    // app_free() of its usual case only, as a leaf: a buffer of this heap
    // that someone else still holds too (a push in flight, the NIC), after
    // the same checks as app_buffer() (inside this heap's blocks, a live
    // block's data, owned by the app). False, and nothing changed, for any
    // other case (a peer's buffer, the last reference, an error): then
    // app_free() does it.
    bool app_free_shared(const void* ptr) {
        const auto* p = static_cast<const uint8_t*>(ptr);
        if (p < m_base || p >= m_next) return false;
        const size_t g = static_cast<size_t>(p - m_base) / kMinBlock;
        auto* b = reinterpret_cast<Buffer*>(m_base + (g - m_map[g]) * kMinBlock);
        if (b->magic != kLive || b->cls >= kClasses || p < b->data() || !b->app_owned || b->refs <= 1) return false;
        b->app_owned = false;
        --b->refs;
        return true;
    }

    // Reuse without a trip through the free list (the NIC puts a sent
    // frame's buffer straight back on its RX ring): if the caller holds the
    // only reference to `b`, and `b` is a buffer of this heap (not a peer's)
    // of the class alloc(len) picks, it becomes what alloc(len) returns (one
    // reference, app-owned, len valid bytes from data()) and the answer is
    // true; otherwise nothing changes and the caller releases it as usual.
    bool reuse_last(Buffer* b, size_t len) { return reuse_last(b, len, class_of(len)); }
    // reuse_last() with the class of len computed by the caller, once
    // (class_for(len), a constant expression).
    bool reuse_last(Buffer* b, size_t len, uint32_t cls) {
        if (b->refs != 1 || b->magic != kLive || b->cls != cls || !contains(b)) return false;
        b->len = static_cast<uint32_t>(len);
        b->off = 0;
        b->next = nullptr;
        b->app_owned = true;
        return true;
    }

    // Takes one more reference (a push in flight).
    void retain(Buffer* b) { ++b->refs; }
    // Drops a reference; the last one returns the block to its free list.
    // Inline: a push's or the app's reference on a buffer someone else
    // still holds is one decrement; the last one goes out of line.
    void release(Buffer* b) {
        if (b->refs > 1 && b->magic == kLive) [[likely]] {
            --b->refs;
            return;
        }
        release_last(b);
    }

    // Lending between the heaps of one app's cores (issue 14's software
    // steering: the core owning a single-queue NIC hands a received buffer
    // to the core its flow hashes to, and that core's app pops it in place).
    // A buffer keeps belonging to the heap that carved it: owner_of() also
    // finds buffers of the `peers` heaps (their granule maps are written
    // once, before any of their buffers is handed over), and when the last
    // reference to a peer's buffer is dropped here, `give_back(ctx, b)` gets
    // that reference (b->refs == 1) to pass to the owning core, whose
    // release() frees it. Nothing else of a peer heap is touched. peers[i]
    // may be null (that core is not up); this heap may be among them.
    using GiveBack = void (*)(void* ctx, Buffer* b);
    void set_peers(DmaHeap* const* peers, uint32_t count, GiveBack give_back, void* ctx) {
        m_peers = peers;
        m_peer_count = count;
        m_give_back = give_back;
        m_give_back_ctx = ctx;
    }
    bool contains(const void* p) const {
        return reinterpret_cast<const uint8_t*>(p) >= m_base && reinterpret_cast<const uint8_t*>(p) < m_end;
    }
    uint32_t live() const { return m_live; }  // buffers with refs > 0
    // Bytes of blocks in use and of the whole carvable region: the RX path
    // copies instead of lending buffers when the app holds too much.
    size_t bytes_live() const { return m_bytes_live; }
    size_t bytes_total() const { return static_cast<size_t>(m_end - m_base); }
    // The size class alloc(len) picks (kClasses: none), for reuse_last().
    static constexpr uint32_t class_for(size_t len) { return class_of(len); }
    size_t largest() const { return (kMinBlock << (kClasses - 1)) - sizeof(Buffer); }

private:
    static constexpr size_t block_size(uint32_t cls) { return kMinBlock << cls; }
    // The smallest class whose blocks hold len bytes, kClasses if none
    // (folds at compile time for a constant len).
    static constexpr uint32_t class_of(size_t len) {
        uint32_t cls = 0;
        while (cls < kClasses && block_size(cls) - sizeof(Buffer) < len) ++cls;
        return cls;
    }

    uint16_t* m_map = nullptr;  // granule -> granules back to its block's start
    uint8_t* m_base = nullptr;  // first block (after the map)
    uint8_t* m_next = nullptr;
    uint8_t* m_end = nullptr;
    Result<Buffer*> own_buffer_of(const uint8_t* p) {
        const size_t g = static_cast<size_t>(p - m_base) / kMinBlock;
        auto* b = reinterpret_cast<Buffer*>(m_base + (g - m_map[g]) * kMinBlock);
        if (b->magic == kFree) return Error::InvalidArgument;
        if (b->magic != kLive || b->cls >= kClasses) return Error::BadAddress;
        if (p < b->data()) return Error::BadAddress;  // inside the header
        return b;
    }
    // alloc() of a class with no free block: a new one from the region.
    Result<Buffer*> carve(uint32_t cls, size_t len);
    Buffer* init_live(Buffer* b, uint32_t cls, size_t len) {
        b->magic = kLive;
        b->refs = 1;
        b->cls = cls;
        b->len = static_cast<uint32_t>(len);
        b->off = 0;
        b->capacity = block_size(cls) - sizeof(Buffer);
        b->next = nullptr;
        b->app_owned = true;
        ++m_live;
        m_bytes_live += block_size(cls);
        return b;
    }
    // release() of the last reference (or of a bad one: panics).
    void release_last(Buffer* b);
    // owner_of() of a pointer outside this heap's carved blocks.
    Result<Buffer*> peer_owner_of(const uint8_t* p);
    Buffer* m_free[kClasses] = {};
    DmaHeap* const* m_peers = nullptr;
    uint32_t m_peer_count = 0;
    GiveBack m_give_back = nullptr;
    void* m_give_back_ctx = nullptr;
    uint32_t m_live = 0;
    size_t m_bytes_live = 0;
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
