// SpscRing: the one single-producer single-consumer ring of 64-byte messages.
//
// Used for the kernel's inter-hart messages and for libOS queues, so the
// layout is plain data that can live in a page shared by two address spaces:
//
//   offset 0                 head: count of messages ever pushed (producer writes)
//   offset 64                tail: count of messages ever popped (consumer writes)
//   offset 128 + 64 * i      slot i, i < kSlots (a power of two)
//
// head and tail sit on their own cache lines so the two sides do not bounce
// one line between harts on every operation. Both are free-running 64-bit
// counters (they never wrap in practice); a slot is counter & (kSlots - 1).
//
// Each side touches the ring only through its endpoint (SpscProducer or
// SpscConsumer), which keeps its own cursor privately and never trusts the
// peer's copy: the peer may be another address space, so a nonsense index
// read from shared memory is reported as Error::BadFormat instead of being
// used to address a slot.
//
// Memory ordering (the whole protocol):
//   push: read tail with ACQUIRE  -> the consumer has finished reading the slot
//         we are about to overwrite (its RELEASE store of tail published that);
//         write the slot with plain stores;
//         write head with RELEASE -> the slot contents are visible before the
//         consumer can observe the new head.
//   pop:  read head with ACQUIRE  -> pairs with the producer's RELEASE, so the
//         slot's contents are visible; copy the slot out with plain loads;
//         write tail with RELEASE -> our reads of the slot happen before the
//         producer may reuse it.
// On RISC-V the acquire load is `ld; fence r,rw` and the release store is
// `fence rw,w; sd` (RVWMO mapping); no other fence is needed.
//
// Freestanding: <stdint.h>, <stddef.h>, <atomic> (header-only in GCC and
// Clang; 64-bit atomics are native on rv64, so no libatomic calls).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "ringlet/result.h"

namespace ringlet {

inline constexpr size_t kCacheLine = 64;

// One message: a cache line of payload whose meaning belongs to the users of
// the ring (each defines its own 64-byte struct and copies it in and out).
struct alignas(kCacheLine) RingMessage {
    uint64_t words[8];
};
static_assert(sizeof(RingMessage) == kCacheLine);

// The shared-memory layout. Zero-filled memory is an empty ring, so a freshly
// allocated (zeroed) page can be used after a placement-new or as is.
template <uint32_t kSlots>
struct SpscRing {
    static_assert(kSlots >= 2 && (kSlots & (kSlots - 1)) == 0, "capacity must be a power of two");
    static constexpr uint32_t kCapacity = kSlots;
    static constexpr uint64_t kMask = kSlots - 1;

    alignas(kCacheLine) std::atomic<uint64_t> head{0};  // written only by the producer
    alignas(kCacheLine) std::atomic<uint64_t> tail{0};  // written only by the consumer
    RingMessage slots[kSlots];
};

// What the shared layout may rely on, whatever kSlots is. (Checked on a
// representative instance: offsets do not depend on kSlots.)
static_assert(sizeof(std::atomic<uint64_t>) == 8);
static_assert(std::atomic<uint64_t>::is_always_lock_free, "ring counters must be lock-free to be shared");
static_assert(offsetof(SpscRing<2>, head) == 0);
static_assert(offsetof(SpscRing<2>, tail) == 64);
static_assert(offsetof(SpscRing<2>, slots) == 128);
static_assert(sizeof(SpscRing<2>) == 128 + 2 * 64);
static_assert(sizeof(SpscRing<32>) == 128 + 32 * 64);
static_assert(alignof(SpscRing<32>) == kCacheLine);

// The producing side. Exactly one SpscProducer may exist per ring at a time.
template <uint32_t kSlots>
class SpscProducer {
public:
    // Attaches to `ring` as its producer, resuming from the ring's current
    // head (so an endpoint can be recreated over a ring already in use).
    explicit SpscProducer(SpscRing<kSlots>& ring)
        : m_ring(&ring),
          m_head(ring.head.load(std::memory_order_relaxed)),
          // Pretend the ring is full so the first push reads (and checks)
          // the shared tail instead of trusting it unchecked here.
          m_cached_tail(m_head - kSlots) {}

    // Copies `message` into the next slot and publishes it; Error::Full if
    // the consumer has not freed a slot, Error::BadFormat if the shared tail
    // is impossible (a corrupt or hostile consumer). Never blocks.
    Result<void> try_push(const RingMessage& message) {
        if (m_head - m_cached_tail >= kSlots) {
            // Looks full with our stale view; refresh it. ACQUIRE: the
            // consumer's reads of the slot we will overwrite are complete.
            uint64_t tail = m_ring->tail.load(std::memory_order_acquire);
            if (tail > m_head || m_head - tail > kSlots) return Error::BadFormat;
            m_cached_tail = tail;
            if (m_head - m_cached_tail >= kSlots) return Error::Full;
        }
        __builtin_memcpy(&m_ring->slots[m_head & SpscRing<kSlots>::kMask], &message, sizeof(RingMessage));
        ++m_head;
        // RELEASE: the slot's bytes become visible no later than the new head.
        m_ring->head.store(m_head, std::memory_order_release);
        return ok();
    }

    // How many slots the producer could fill now without refreshing, a lower
    // bound on the free space (the consumer may have freed more since).
    uint32_t free_slots_hint() const { return static_cast<uint32_t>(kSlots - (m_head - m_cached_tail)); }

    // Total messages this ring has accepted (the producer's cursor).
    uint64_t pushed() const { return m_head; }

private:
    SpscRing<kSlots>* m_ring;
    uint64_t m_head;         // authoritative; the shared head is only written
    uint64_t m_cached_tail;  // last tail seen; refreshed only when the ring looks full
};

// The consuming side. Exactly one SpscConsumer may exist per ring at a time.
template <uint32_t kSlots>
class SpscConsumer {
public:
    // Attaches to `ring` as its consumer, resuming from the ring's current tail.
    explicit SpscConsumer(SpscRing<kSlots>& ring)
        : m_ring(&ring),
          m_tail(ring.tail.load(std::memory_order_relaxed)),
          // Pretend the ring is empty so the first pop reads (and checks)
          // the shared head instead of trusting it unchecked here.
          m_cached_head(m_tail) {}

    // Takes the oldest message; Error::Empty if there is none, Error::BadFormat
    // if the shared head is impossible (a corrupt or hostile producer).
    Result<RingMessage> try_pop() {
        TRY(refresh_if_empty());
        RingMessage message;
        __builtin_memcpy(&message, &m_ring->slots[m_tail & SpscRing<kSlots>::kMask], sizeof(RingMessage));
        ++m_tail;
        // RELEASE: our copy of the slot is complete before the producer can
        // see the slot as free and overwrite it.
        m_ring->tail.store(m_tail, std::memory_order_release);
        return message;
    }

    // Whether a message is ready to pop (refreshes the view of head if needed);
    // errors as for try_pop except that an empty ring is `false`, not an error.
    Result<bool> has_message() {
        Result<void> r = refresh_if_empty();
        if (r.ok()) return true;
        if (r.error() == Error::Empty) return false;
        return r.error();
    }

    // Total messages taken from this ring (the consumer's cursor).
    uint64_t popped() const { return m_tail; }

private:
    Result<void> refresh_if_empty() {
        if (m_cached_head != m_tail) return ok();
        // ACQUIRE: pairs with the producer's RELEASE store of head, making
        // the slots it published visible to our plain loads.
        uint64_t head = m_ring->head.load(std::memory_order_acquire);
        if (head < m_tail || head - m_tail > kSlots) return Error::BadFormat;
        m_cached_head = head;
        if (m_cached_head == m_tail) return Error::Empty;
        return ok();
    }

    SpscRing<kSlots>* m_ring;
    uint64_t m_tail;         // authoritative; the shared tail is only written
    uint64_t m_cached_head;  // last head seen; refreshed only when the ring looks empty
};

}  // namespace ringlet
