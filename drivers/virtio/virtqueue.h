// Virtqueue: the driver side of one split virtqueue (virtio 1.2 section 2.7).
//
// The three ring parts live in DMA memory the caller provides (one span,
// virtual + physical address); all bookkeeping lives in this object, never
// in memory the device can write: a free-descriptor bitmap, a shadow of each
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
    uint16_t free_descriptors() const { return m_free_count; }
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

    // Publishes every chain added since the last kick and notifies the
    // device unless it asked not to be (section 2.7.13 steps 4-7). Returns
    // whether it rang the doorbell.
    Result<bool> kick();

    // The next completed chain, its descriptors freed: Empty if none,
    // BadFormat (queue now broken) if the device wrote an impossible used
    // index, an id that is out of range or not in flight, or a length
    // beyond the chain's writable capacity (sections 2.7.8, 2.7.14).
    Result<Completion> pop() {
        // Nothing new (the common poll): one load of the used idx, no call.
        if (!m_broken && m_last_used == m_used_seen &&
            __atomic_load_n(reinterpret_cast<const uint16_t*>(used() + 2), __ATOMIC_RELAXED) == m_last_used) {
            return Error::Empty;
        }
        return pop_next();
    }

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

    int32_t alloc_desc() {
        for (uint32_t w = 0; w < kMaxSize / 64; ++w) {
            if (m_free_bits[w] != 0) {
                const uint32_t bit = count_trailing_zeros(m_free_bits[w]);
                m_free_bits[w] &= m_free_bits[w] - 1;  // clears the lowest set bit, the one found
                --m_free_count;
                return static_cast<int32_t>(w * 64 + bit);
            }
        }
        return -1;
    }
    void free_chain(uint16_t head);
    Result<Completion> pop_next();
    Result<Completion> fail_bad_device();

    uint8_t* m_ring = nullptr;
    uint16_t* m_avail = nullptr;  // m_ring + avail_offset(m_size)
    uint8_t* m_used = nullptr;    // m_ring + used_offset(m_size)
    uint64_t m_ring_pa = 0;
    Doorbell m_doorbell;
    uint16_t m_size = 0;
    bool m_event_idx = false;
    bool m_broken = false;
    bool m_interrupts_on = true;  // the spec's initial state: flags 0, used_event 0

    uint16_t m_free_count = 0;
    uint16_t m_avail_idx = 0;    // the idx the device has seen (published)
    uint16_t m_added = 0;        // chains queued after m_avail_idx, not yet published
    uint16_t m_in_flight = 0;    // published chains not yet popped
    uint16_t m_last_used = 0;    // the used ring cursor: next entry to consume
    uint16_t m_used_seen = 0;    // the last used idx read and validated

    uint64_t m_free_bits[kMaxSize / 64] = {};  // 1 = descriptor free
    uint16_t m_next[kMaxSize] = {};            // our copy of each descriptor's link
    uint16_t m_avail_shadow[kMaxSize] = {};    // our copy of the available ring
    SlotState m_state[kMaxSize] = {};
    // Per-head completion slots.
    uint16_t m_chain_len[kMaxSize] = {};
    uint32_t m_writable[kMaxSize] = {};
    uint64_t m_cookie[kMaxSize] = {};
};

}  // namespace ringlet::virtio
