// Virtqueue: the driver side of one split virtqueue (virtio 1.2 section 2.7).
//
// The three ring parts live in DMA memory the caller provides (one span,
// virtual + physical address); all bookkeeping lives in this object, never
// in memory the device can write: a stack of free descriptors, a shadow of each
// chain's links, and per-head completion slots (caller cookie, writable
// capacity, state). Everything the device writes (used idx, used entries,
// notification hints) is read once and checked before use; a device that
// lies marks the queue broken and every call then returns BadFormat.
//
// Usage: add() chains, kick() to publish them and notify the device when it
// wants a notification, pop() completions. While the caller is busy it polls
// with interrupts disabled; before sleeping it calls enable_interrupts(),
// which says whether work arrived in between.
//
// Not thread-safe: one core owns a queue (architecture.md, per-hart state).
// Freestanding: no heap, no libc.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/mmio_transport.h"
#include "drivers/virtio/mmio_window.h"
#include "ringlet/bits.h"
#include "ringlet/result.h"

namespace ringlet::virtio {

// Ring-format constants and the accessors of memory shared with the
// device, for the inline hot paths below and virtqueue.cc.
namespace vq {

// Descriptor flags (section 2.7.5).
inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;
// Available ring flags (section 2.7.6) and used ring flags (section 2.7.8).
inline constexpr uint16_t kAvailNoInterrupt = 1;
inline constexpr uint16_t kUsedNoNotify = 1;

// Fields shared with the device are accessed with single, untorn loads and
// stores the compiler may not merge or repeat; ordering comes from explicit
// fences, each placed where the spec asks for one.
inline uint16_t load16(const void* p) { return __atomic_load_n(static_cast<const uint16_t*>(p), __ATOMIC_RELAXED); }
inline uint32_t load32(const void* p) { return __atomic_load_n(static_cast<const uint32_t*>(p), __ATOMIC_RELAXED); }
inline void store16(void* p, uint16_t v) { __atomic_store_n(static_cast<uint16_t*>(p), v, __ATOMIC_RELAXED); }

// The event-index rule of section 2.7.10 (mirrored in 2.7.7): notify iff
// `event` lies in the window of indices (old, new] just published/consumed,
// computed modulo 2^16.
inline bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
    return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

}  // namespace vq

// One physically contiguous piece of a buffer, as the device sees it.
// No default member values: the per-frame arrays of these are filled in
// whole, and defaults would make the compiler zero them first.
struct Segment {
    uint64_t pa;
    uint32_t len;
};

// A chain the device has finished with.
struct Completion {
    uint64_t cookie = 0;  // what the caller passed to add()
    uint32_t len = 0;     // bytes the device wrote, checked <= the chain's writable capacity
    uint16_t head = 0;    // the chain's head descriptor (stable while in flight)
};

struct VirtqueueConfig {
    DmaSpan ring;            // >= Virtqueue::ring_bytes(size), va and pa 16-byte aligned
    uint16_t size = 0;       // power of two, 1..kMaxSize
    bool event_idx = false;  // VIRTIO_F_EVENT_IDX was negotiated
    Doorbell doorbell;       // from MmioTransport::doorbell(queue index)
};

class Virtqueue {
public:
    // The largest queue this driver tracks; per-head state is sized for it.
    static constexpr uint16_t kMaxSize = 256;

    // Bytes of DMA memory a queue of `size` entries needs (section 2.7:
    // descriptor table, available ring, used ring, each at its alignment).
    static constexpr uint32_t ring_bytes(uint16_t size) {
        return used_offset(size) + 6u + 8u * size;
    }

    Virtqueue() = default;

    // A queue over config.ring, zeroed (section 2.7.10: the driver
    // initialises the used ring's flags to 0). InvalidArgument for a size
    // that is 0, not a power of two or above kMaxSize, a span too small or
    // misaligned, or a doorbell with no window.
    static Result<Virtqueue> create(const VirtqueueConfig& config);

    // Sets up queue `index` of a negotiated device (section 4.2.3.2): picks
    // the largest power of two <= both `max_size` and QueueNumMax, builds
    // the queue over `ring` (EVENT_IDX as negotiated) and enables it.
    // Errors from MmioTransport::queue_max(), create() or enable_queue().
    static Result<Virtqueue> setup(MmioTransport& transport, uint16_t index, DmaSpan ring, uint16_t max_size);

    uint16_t size() const { return m_size; }
    uint64_t desc_pa() const { return m_ring_pa; }
    uint64_t avail_pa() const { return m_ring_pa + avail_offset(m_size); }
    uint64_t used_pa() const { return m_ring_pa + used_offset(m_size); }
    uint16_t free_descriptors() const { return static_cast<uint16_t>(m_free_count); }
    // Chains added and not yet returned by pop().
    uint16_t outstanding() const { return static_cast<uint16_t>(m_in_flight + m_added); }
    bool broken() const { return m_broken; }

    // Places a chain of `nr` device-readable then `nw` device-writable
    // segments (section 2.7.4.2 wants readable ones first) and queues its
    // head in the available ring; the device sees it after kick(). Returns
    // the head. Full if too few descriptors are free; InvalidArgument for an
    // empty chain, a zero-length segment, an address range that wraps or a
    // chain over 4 GiB (section 2.7.5.2).
    Result<uint16_t> add(const Segment* readable, uint32_t nr, const Segment* writable, uint32_t nw,
                         uint64_t cookie);
    // add() of a chain of one segment, device-writable if `writable` (an
    // RX buffer) else readable (a TX frame): the per-packet case, with the
    // same checks and errors, and no loops.
    Result<uint16_t> add_one(const Segment& s, bool writable, uint64_t cookie);
    // add() of a device-readable chain of two segments (a TX frame whose
    // headers sit in one buffer and its payload in another): the same
    // checks and errors, unrolled.
    Result<uint16_t> add_two(const Segment& first, const Segment& second, uint64_t cookie);

    // add_one() of a device-readable segment, then kick(): published at
    // once, so the chain goes straight to in flight (one step less per
    // frame). The same checks and errors as add_one(); the chain is queued
    // and not published if kick() would fail.
    Result<uint16_t> add_one_and_kick(const Segment& s, uint64_t cookie);

    // Publishes every chain added since the last kick and notifies the
    // device unless it asked not to be (section 2.7.13 steps 4-7). Returns
    // whether it rang the doorbell.
    Result<bool> kick();

    // The next completed chain, its descriptors freed: Empty if none,
    // BadFormat (queue now broken) if the device wrote an impossible used
    // index, an id that is out of range or not in flight, or a length
    // beyond the chain's writable capacity (sections 2.7.8, 2.7.14).
    [[gnu::always_inline]] Result<Completion> pop();
    // pop() into *c (written only on Ok): the per-frame loops' form, whose
    // completion stays in registers (a Result<Completion> goes through memory).
    [[gnu::always_inline]] Error next(Completion* c);

    // True if the device has returned chains pop() has not taken yet (a
    // cheap read of the used index; pop() still validates).
    bool has_used() const;

    // Asks the device not to interrupt for this queue (section 2.7.7): the
    // caller polls. A hint; spurious interrupts can still arrive.
    void disable_interrupts();

    // Asks for an interrupt on the next completion, then re-reads the used
    // index: true means completions arrived already and the caller must
    // poll instead of sleeping (else it could miss the wake-up; see the
    // note in section 2.7.14). Also true if the queue is broken.
    bool enable_interrupts();

    // After the device was reset (it no longer touches the ring): the next
    // chain that was added but never completed, freed, with len 0, so the
    // caller can take its buffer back. Empty once none is left.
    Result<Completion> reclaim();

private:
    static constexpr uint32_t avail_offset(uint16_t size) { return 16u * size; }
    static constexpr uint32_t used_offset(uint16_t size) {
        return (avail_offset(size) + 6u + 2u * size + 3u) & ~3u;
    }

    enum class SlotState : uint8_t { Free, Body, Pending, InFlight };

    // Everything we keep about a descriptor, in one place (one address
    // computation per add and per pop): its state, and for a chain's head
    // the chain's length, writable capacity and the caller's cookie.
    struct alignas(16) Head {
        uint64_t cookie;
        uint32_t writable;
        uint16_t chain_len;
        SlotState state;
        uint8_t pad;
    };
    static_assert(sizeof(Head) == 16, "two words per descriptor");
    // Sets a head's writable, chain length and state with one store (the
    // per-packet paths write all three).
    static void set_meta(Head& h, uint32_t writable, uint16_t chain_len, SlotState state) {
        const uint64_t meta = static_cast<uint64_t>(writable) | static_cast<uint64_t>(chain_len) << 32 |
                              static_cast<uint64_t>(state) << 48;
        // The three fields are the head's second 8-byte word (Head is
        // 16 bytes, 8-aligned): one aligned store, not eight byte stores.
        __builtin_memcpy(__builtin_assume_aligned(&h.writable, 8), &meta, sizeof meta);
    }

    // Ring accessors (layout of section 2.7.5, 2.7.6, 2.7.8).
    struct Desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
    };
    Desc* desc() const { return reinterpret_cast<Desc*>(m_ring); }
    // Cached at create(): the offsets depend on the size, and every add,
    // kick and pop needs them.
    uint16_t* avail() const { return m_avail; }
    uint8_t* used() const { return m_used; }
    uint16_t* used_event() const { return avail() + 2 + m_size; }
    uint16_t load_used_idx() const;

    // The free descriptors are a stack (the most recently freed is taken
    // first): a pop and a push per chain, no scan. Which descriptors are
    // free is also in m_heads, which is what a device's answer is checked
    // against.
    int32_t alloc_desc() {
        if (m_free_count == 0) return -1;
        return m_free_stack[--m_free_count];
    }
    void push_free(size_t d) { m_free_stack[m_free_count++] = static_cast<uint16_t>(d); }
    // Frees the chain whose head is descriptor `head` (h: its m_heads entry).
    void free_chain(Head& h, size_t head);
    // Section 2.7.13.2: a chain's head goes into the next free avail ring
    // slot; the device ignores it until kick() moves idx past it.
    void queue_head(uint16_t h) {
        const uint16_t slot = static_cast<uint16_t>((m_avail_idx + m_added) & m_mask);
        avail()[2 + slot] = h;
        m_avail_shadow[slot] = h;
        ++m_added;
    }
    Error fail_bad_device();

    uint8_t* m_ring = nullptr;
    uint16_t* m_avail = nullptr;  // m_ring + avail_offset(m_size)
    uint8_t* m_used = nullptr;    // m_ring + used_offset(m_size)
    uint64_t m_ring_pa = 0;
    Doorbell m_doorbell;
    uint16_t m_size = 0;
    size_t m_mask = 0;  // m_size - 1: ring slots and ids are taken modulo the size
    bool m_event_idx = false;
    bool m_broken = false;
    // EVENT_IDX and interrupts wanted: every pop moves used_event (the
    // spec's initial state is interrupts on: flags 0, used_event 0).
    bool m_used_event_on = false;

    // Counts of at most kMaxSize, kept in full registers' width (no
    // zero-extension when they index an array); the ring indices below are
    // 16-bit as the device's are.
    size_t m_free_count = 0;   // descriptors in m_free_stack
    size_t m_added = 0;        // chains queued after m_avail_idx, not yet published
    size_t m_in_flight = 0;    // published chains not yet popped
    uint16_t m_avail_idx = 0;    // the idx the device has seen (published)
    uint16_t m_last_used = 0;    // the used ring cursor: next entry to consume
    uint16_t m_used_seen = 0;    // the last used idx read and validated

    // Order: the arrays every add and pop touches first, so their fields
    // are reachable from `this` with a plain 12-bit offset.
    uint16_t m_free_stack[kMaxSize] = {};      // [0, m_free_count): the free descriptors
    uint16_t m_avail_shadow[kMaxSize] = {};    // our copy of the available ring
    Head m_heads[kMaxSize] = {};               // per descriptor: state; per head: its chain
    uint16_t m_next[kMaxSize] = {};            // our copy of each descriptor's link
};


// ---- the per-packet paths, inline (one call less per frame each) ----

// Inline: pop_next() stays a leaf function (no registers saved per pop).
[[gnu::always_inline]] inline void Virtqueue::free_chain(Head& h, size_t head) {
    const uint16_t n = h.chain_len;
    // The cookie stays stale: it is read only while the head is in flight.
    set_meta(h, 0, 0, SlotState::Free);
    push_free(head);
    if (n == 1) return;  // the per-packet case: one descriptor
    // Walk our own copy of the links: the descriptor table is in memory the
    // device could have scribbled on, and the chain length bounds the walk.
    uint16_t d = m_next[head];
    for (uint16_t i = 1; i < n; ++i) {
        const uint16_t next = m_next[d];
        m_heads[d].state = SlotState::Free;
        push_free(d);
        d = next;
    }
}

inline Result<uint16_t> Virtqueue::add_one(const Segment& s, bool writable, uint64_t cookie) {
    if (m_broken) return Error::BadFormat;
    // A segment is at most 4 GiB - 1, below add()'s 2^32 chain limit.
    if (s.len == 0 || s.pa + s.len < s.pa) return Error::InvalidArgument;
    const size_t free = m_free_count;
    if (free == 0) return Error::Full;
    const auto h = m_free_stack[free - 1];  // the most recently freed descriptor
    m_free_count = free - 1;
    // Section 2.7.13.2: the head goes into the next free avail ring slot;
    // the device ignores it until kick() moves idx past it. Every field is
    // read before the first store into the rings (which could alias them).
    const size_t added = m_added;
    const size_t slot = (m_avail_idx + added) & m_mask;
    uint16_t* const ring = avail();
    Desc& desc_d = desc()[h];
    desc_d.addr = s.pa;
    desc_d.len = s.len;
    desc_d.flags = writable ? vq::kDescWrite : 0;
    desc_d.next = 0;
    // m_next is read only for chains of two or more (free_chain()).
    Head& head = m_heads[h];
    head.cookie = cookie;
    set_meta(head, writable ? s.len : 0, 1, SlotState::Pending);
    ring[2 + slot] = h;
    m_avail_shadow[slot] = h;
    m_added = added + 1;
    return h;
}

// Inline: VirtioNic::transmit_frame() sends every one-buffer frame
// through it. The queue's fields are read into locals before the fences
// (their memory clobbers would reload them).
[[gnu::always_inline]] inline Result<uint16_t> Virtqueue::add_one_and_kick(const Segment& s, uint64_t cookie) {
    if (m_added != 0 || m_broken) [[unlikely]] {  // chains queued before: publish them all together
        const uint16_t h = TRY(add_one(s, false, cookie));
        TRY(kick());
        return h;
    }
    if (s.len == 0 || s.pa + s.len < s.pa) return Error::InvalidArgument;
    const size_t free = m_free_count;
    if (free == 0) return Error::Full;
    const auto h = m_free_stack[free - 1];  // the most recently freed descriptor
    m_free_count = free - 1;
    Desc& d = desc()[h];
    d.addr = s.pa;
    d.len = s.len;
    d.flags = 0;
    d.next = 0;
    // Section 2.7.13.2: the head into the next avail slot.
    const uint16_t old_idx = m_avail_idx;
    const auto new_idx = static_cast<uint16_t>(old_idx + 1);
    const size_t slot = old_idx & m_mask;
    uint16_t* const ring = avail();
    ring[2 + slot] = h;
    m_avail_shadow[slot] = h;
    Head& head = m_heads[h];
    head.cookie = cookie;
    set_meta(head, 0, 1, SlotState::InFlight);  // the device may return it once idx moves
    ++m_in_flight;
    m_avail_idx = new_idx;
    // Section 2.7.13 steps 4-7, as kick() (its comments say why). What
    // decides the notification is read after the fences: fewer values
    // live across them.
    m_doorbell.window.fence(Fence::Write);
    vq::store16(ring + 1, new_idx);
    m_doorbell.window.fence(Fence::Full);
    const bool notify = m_event_idx ? vq::need_event(vq::load16(used() + 4 + 8u * m_size), new_idx, old_idx)
                                    : (vq::load16(used()) & vq::kUsedNoNotify) == 0;
    if (notify) m_doorbell.window.write32(m_doorbell.offset, m_doorbell.value);
    return h;
}

inline Result<bool> Virtqueue::kick() {
    if (m_broken) return Error::BadFormat;
    if (m_added == 0) return false;
    const MmioWindow& w = m_doorbell.window;

    // Section 2.7.13 step 4 (and 2.7.13.3.1): descriptors and ring entries
    // must be visible to the device before the idx that exposes them.
    w.fence(Fence::Write);
    uint16_t old_idx = m_avail_idx;
    const size_t added = m_added;
    uint16_t new_idx = static_cast<uint16_t>(old_idx + added);
    // Step 5: advance idx by the number of heads added (wraps at 2^16).
    vq::store16(avail() + 1, new_idx);
    for (size_t i = 0; i < added; ++i) {
        m_heads[m_avail_shadow[(old_idx + i) & m_mask]].state = SlotState::InFlight;
    }
    m_in_flight += added;
    m_avail_idx = new_idx;
    m_added = 0;

    // Step 6 (and 2.7.13.4.1): the idx store must be visible before we read
    // the device's suppression hint, else we could skip a notification the
    // device was about to ask for.
    w.fence(Fence::Full);
    bool notify;
    if (m_event_idx) {
        // Section 2.7.10: notify iff avail_event lies in (old, new].
        uint16_t avail_event = vq::load16(used() + 4 + 8u * m_size);
        notify = vq::need_event(avail_event, new_idx, old_idx);
    } else {
        // Section 2.7.10: without EVENT_IDX, used flags bit 0 = NO_NOTIFY.
        notify = (vq::load16(used()) & vq::kUsedNoNotify) == 0;
    }
    // Step 7, section 4.2.3.3: the notification is a QueueNotify write of
    // the queue index (the window orders it after the ring stores).
    if (notify) w.write32(m_doorbell.offset, m_doorbell.value);
    return notify;
}

// Inline: the poll and reap loops take one completion per call; the
// common empty poll is one load of the used idx. The queue's fields are
// read into locals before the fence (its memory clobber would reload them).
[[gnu::always_inline]] inline Result<Completion> Virtqueue::pop() {
    Completion c;
    const Error e = next(&c);
    if (e != Error::Ok) return e;
    return c;
}

[[gnu::always_inline]] inline Error Virtqueue::next(Completion* c) {
    if (m_broken) [[unlikely]] return Error::BadFormat;
    const uint16_t last = m_last_used;
    const size_t mask = m_mask;
    uint8_t* const used_ring = used();
    if (last == m_used_seen) {
        const uint16_t idx = vq::load16(used_ring + 2);
        const auto delta = static_cast<uint16_t>(idx - last);
        if (delta == 0) return Error::Empty;
        // The device can only return chains it was given: a used idx that
        // moved further (more than the queue size, or backwards, which
        // shows as a huge delta) is a lie.
        if (delta > m_in_flight) [[unlikely]] return fail_bad_device();
        m_used_seen = idx;
        // Section 2.7.8 (device sets len and the entry before idx): read the
        // entries only after the idx that covers them.
        m_doorbell.window.fence(Fence::Read);
    }

    // Read the entry once into locals; the device may rewrite it.
    const uint8_t* elem = used_ring + 4 + 8 * static_cast<size_t>(last & mask);
    const size_t id = vq::load32(elem);
    const uint32_t len = vq::load32(elem + 4);
    if (id > mask) [[unlikely]] return fail_bad_device();  // the size is mask + 1
    Head& h = m_heads[id];
    // Section 2.7.8.1 (len is what the device wrote into the writable part)
    // so it cannot exceed what we offered.
    if (h.state != SlotState::InFlight || len > h.writable) [[unlikely]] return fail_bad_device();

    c->cookie = h.cookie;
    c->len = len;
    c->head = static_cast<uint16_t>(id);
    free_chain(h, id);
    const auto next = static_cast<uint16_t>(last + 1);
    m_last_used = next;
    --m_in_flight;
    // Section 2.7.7 with EVENT_IDX: while interrupts are wanted, ask for one
    // when the device writes the entry after the last one we consumed.
    if (m_used_event_on) vq::store16(avail() + 2 + mask + 1, next);  // used_event()
    return Error::Ok;
}

}  // namespace ringlet::virtio
