// ResetMailbox: the messages of a device reset shared by the cores that
// drive the device's queues (net/virtio_nic_recovery.h for a multiqueue NIC,
// libos/backend/blk_recovery.h for a multiqueue disk; each holds the
// protocol, this holds only the mail).
//
// Core 0 owns the device; every other core k talks to it over two
// SpscPtrRings (k -> 0 "up", 0 -> k "down"), one producer and one consumer
// each, carrying pointers to constant notes. The protocols send at most two
// notes per ring before the receiver answers, so a push never fails. A
// per-core mail counter lets a core's poll see "nothing for me" with one
// load; after each note the receiver is woken (`Wake`: a doorbell that stays
// pending if the core is not asleep yet).
//
// Membership: a core that has not started using its queue holds nothing and
// must not be waited for. Its membership word moves Absent -> Joined only by
// the core itself (try_join), Absent <-> Locked and Locked -> Gone only by
// core 0 (lock_out_absent at a reset's start, release_absent at its end), so
// one compare-and-swap on each side decides who goes first.
#pragma once

#include <stdint.h>

#include <atomic>

#include "libos/rt/spsc_ring.h"

namespace ringlet::rt {

class ResetMailbox {
public:
    static constexpr uint32_t kMaxCores = 16;  // virtio::NetMultiQueue::kMaxPairs
    using Wake = void (*)(void* ctx, uint32_t from, uint32_t to);

    enum class Note : uint8_t { Fault, Reclaimed, Reclaim, Resume, GiveUp };
    struct Message {
        Note note;
    };
    enum Member : uint32_t { kAbsent = 0, kJoined = 1, kLocked = 2, kGone = 3 };

    ResetMailbox() = default;
    ResetMailbox(const ResetMailbox&) = delete;
    ResetMailbox& operator=(const ResetMailbox&) = delete;

    // Before any core uses it: `cores` (clamped to kMaxCores); `wake` may be
    // null (a test polls every core).
    void configure(uint32_t cores, Wake wake, void* wake_ctx) {
        m_cores = cores < kMaxCores ? cores : kMaxCores;
        m_wake = wake;
        m_wake_ctx = wake_ctx;
    }
    uint32_t cores() const { return m_cores; }

    // True if a note waits for `core` (one acquire load; any core's poll).
    bool has_mail(uint32_t core) const {
        return m_mail[core].count.load(std::memory_order_acquire) != m_seen[core].count;
    }
    // `core` is about to drain its ring(s): what came so far counts as seen.
    void take_mail(uint32_t core) { m_seen[core].count = m_mail[core].count.load(std::memory_order_acquire); }
    // Core k's next note from core 0 (k's core only), and core 0's next
    // note from core k (core 0 only); null when none.
    const Message* pop_down(uint32_t k) { return m_down[k].try_pop(); }
    const Message* pop_up(uint32_t k) { return m_up[k].try_pop(); }

    // `from` -> `to` (one of them core 0), then wakes `to`.
    void send(uint32_t from, uint32_t to, Note note) {
        Ring& ring = to == 0 ? m_up[from] : m_down[to];
        // At most two notes are ever queued per ring (the header): never full.
        (void)ring.try_push(&kNotes[static_cast<uint32_t>(note)]);
        // After the push: a receiver that sees the count sees the note.
        m_mail[to].count.fetch_add(1, std::memory_order_release);
        if (m_wake != nullptr) m_wake(m_wake_ctx, from, to);
    }
    // Core 0 -> every core included in the current reset.
    void broadcast(Note note) {
        for (uint32_t k = 1; k < m_cores; ++k) {
            if (m_included[k]) send(0, k, note);
        }
    }

    // `core` starts using its queue: true if it joined; false if a reset
    // runs (or the device is gone), with the word it found in `found`.
    bool try_join(uint32_t core, Member* found) {
        uint32_t expected = kAbsent;
        // Acquire: after a reset, core 0's setup of our queue happened before.
        if (m_mail[core].member.compare_exchange_strong(expected, kJoined, std::memory_order_acq_rel)) return true;
        *found = static_cast<Member>(expected);
        return false;
    }
    Member member(uint32_t core) const { return static_cast<Member>(m_mail[core].member.load(std::memory_order_acquire)); }

    // Core 0, at a reset's start: cores not yet joined are locked out; the
    // joined ones are the reset's (included()).
    void lock_out_absent() {
        for (uint32_t k = 1; k < m_cores; ++k) {
            uint32_t expected = kAbsent;
            m_locked[k] = m_mail[k].member.compare_exchange_strong(expected, kLocked, std::memory_order_acq_rel);
            m_included[k] = !m_locked[k] && expected == kJoined;
        }
    }
    // Core 0, at its end: the locked-out cores may join again (kAbsent) or
    // find the device gone (kGone); each is woken (it may sleep waiting).
    void release_absent(Member to) {
        for (uint32_t k = 1; k < m_cores; ++k) {
            if (!m_locked[k]) continue;
            m_locked[k] = false;
            // Release: our setup of queue k happens before its core joins.
            m_mail[k].member.store(to, std::memory_order_release);
            if (m_wake != nullptr) m_wake(m_wake_ctx, 0, k);
        }
    }
    // Whether core k takes part in the current reset (core 0's view).
    bool included(uint32_t k) const { return m_included[k]; }
    uint32_t included_count() const {
        uint32_t n = 0;
        for (uint32_t k = 1; k < m_cores; ++k) n += m_included[k] ? 1 : 0;
        return n;
    }

private:
    static constexpr Message kNotes[] = {{Note::Fault}, {Note::Reclaimed}, {Note::Reclaim}, {Note::Resume}, {Note::GiveUp}};
    using Ring = SpscPtrRing<const Message, 4>;
    struct alignas(64) Mail {
        std::atomic<uint32_t> count{0};
        std::atomic<uint32_t> member{kAbsent};
    };
    // Written only by its core.
    struct alignas(64) Seen {
        uint32_t count = 0;
    };

    uint32_t m_cores = 0;
    Wake m_wake = nullptr;
    void* m_wake_ctx = nullptr;
    // Core 0's alone.
    bool m_included[kMaxCores] = {};  // joined when the reset began
    bool m_locked[kMaxCores] = {};    // locked out by this reset
    Mail m_mail[kMaxCores];
    Seen m_seen[kMaxCores];
    Ring m_up[kMaxCores];    // core k -> core 0
    Ring m_down[kMaxCores];  // core 0 -> core k
};

}  // namespace ringlet::rt
