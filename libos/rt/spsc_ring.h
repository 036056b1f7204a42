// SpscPtrRing: a fixed-capacity single-producer single-consumer ring of
// pointers, for handing buffers (never their bytes) from one core to another
// inside one app - the software-steering path of issue 14: the core that
// owns a single-queue NIC passes each received buffer to the core its flow
// hashes to, and other cores pass frames to send back to it. One ring per
// (producer core, consumer core) direction; no lock anywhere.
//
// Unlike ringlet::SpscRing (include/ringlet/spsc_ring.h: 64-byte messages
// in memory shared with another address space, so it distrusts the peer),
// both ends here are the same app's own code: the indices are trusted and
// a slot is one pointer, so a hand-off is one store and one release.
//
// Layout: the producer's line (head, its cached copy of tail), the
// consumer's line (tail, its cached copy of head), then the slots. Each side
// reads the other's index only when its cached copy says full/empty, so in
// steady state a push or pop touches the other side's line once per
// batch, not once per buffer.
//
// Memory ordering (the whole protocol):
//   try_push: store the pointer into slot head (plain), then head+1 with
//             RELEASE -> the slot, and whatever the producer wrote into the
//             buffer before pushing it, are visible to the consumer that
//             reads head with ACQUIRE.
//   try_pop:  read the slot after the ACQUIRE load of head, then tail+1 with
//             RELEASE -> the read of the slot happens before the producer,
//             after its ACQUIRE load of tail, may overwrite it.
// Indices are free-running uint32_t counters (slot = index & mask; the
// difference head - tail stays correct across the 2^32 wrap).
//
// Freestanding: <atomic> only (32-bit atomics are native on rv64).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

namespace ringlet::rt {

template <typename T, uint32_t kSlots>
class SpscPtrRing {
    static_assert(kSlots >= 2 && (kSlots & (kSlots - 1)) == 0, "capacity must be a power of two");
    static_assert(kSlots <= (1u << 30), "indices are 32-bit counters");

public:
    static constexpr uint32_t kCapacity = kSlots;
    static constexpr size_t kLine = 64;

    SpscPtrRing() = default;
    SpscPtrRing(const SpscPtrRing&) = delete;
    SpscPtrRing& operator=(const SpscPtrRing&) = delete;

    // Producer only. Hands `p` (not null) to the consumer: false if the ring
    // is full (or p is null) - the caller keeps p (drops it, counts it:
    // push_or_drop()); a producer never waits for a consumer.
    bool try_push(T* p) {
        if (p == nullptr) return false;
        uint32_t head = m_head.load(std::memory_order_relaxed);  // only we write it
        if (head - m_tail_cache == kSlots) {
            // Looks full: see how far the consumer got (pairs with its release).
            m_tail_cache = m_tail.load(std::memory_order_acquire);
            if (head - m_tail_cache == kSlots) return false;
        }
        m_slots[head & (kSlots - 1)] = p;
        m_head.store(head + 1, std::memory_order_release);
        return true;
    }

    // Consumer only. The oldest pointer pushed, or nullptr if none.
    T* try_pop() {
        uint32_t tail = m_tail.load(std::memory_order_relaxed);  // only we write it
        if (tail == m_head_cache) {
            // Looks empty: see what the producer published (pairs with its release).
            m_head_cache = m_head.load(std::memory_order_acquire);
            if (tail == m_head_cache) return nullptr;
        }
        T* p = m_slots[tail & (kSlots - 1)];
        m_tail.store(tail + 1, std::memory_order_release);
        return p;
    }

    // Either side: pointers in the ring at some recent moment (exact only
    // when the other side is idle).
    uint32_t size() const {
        return m_head.load(std::memory_order_acquire) - m_tail.load(std::memory_order_acquire);
    }
    bool empty() const { return size() == 0; }

private:
    // Producer's cache line.
    alignas(kLine) std::atomic<uint32_t> m_head{0};
    uint32_t m_tail_cache = 0;
    // Consumer's cache line.
    alignas(kLine) std::atomic<uint32_t> m_tail{0};
    uint32_t m_head_cache = 0;
    alignas(kLine) T* m_slots[kSlots] = {};
};

// Producer side: pushes p, or counts one drop in *drops when the ring is
// full and returns false - then p is still the caller's to free. The
// policy of the hand-off path: a slow consumer costs its own frames, never
// the producer's progress.
template <typename T, uint32_t kSlots>
inline bool push_or_drop(SpscPtrRing<T, kSlots>& ring, T* p, uint64_t* drops) {
    if (ring.try_push(p)) return true;
    ++*drops;
    return false;
}

}  // namespace ringlet::rt
