// MqRecovery: resetting a multiqueue NIC whose queue pairs are driven by
// different cores (issue 15 item 4 with issue 14's one pair per core).
//
// A device reset stops every queue at once (virtio 1.2 section 2.4), and
// pair k's buffers live in core k's DMA heap, which only core k touches. So
// a fault found on any pair (a used-ring entry that breaks the protocol) or
// DEVICE_NEEDS_RESET is handled by explicit messages between the cores,
// never a lock:
//
//   core k (its pair broke)  --Fault-->      core 0 (owns the device)
//   core 0: one console line, resets the device, takes back pair 0's buffers
//   core 0                   --Reclaim-->    every core k
//   core k: stops using its pair, takes back its buffers (frames in flight
//           dropped, as on a wire)
//   core k                   --Reclaimed-->  core 0
//   core 0, once every core answered: restart() (features, every pair's
//           queues, MQ + RSS through the control queue), re-arms pair 0
//   core 0                   --Resume-->     every core k: re-arms its pair
//
// From the fault until Resume a core's NIC refuses to transmit (IoError:
// EIO to a UDP push) and receives nothing; buffers the stack or the app
// already held stay theirs. After kMaxResets resets, or if the device will
// not reset or come back as it was (the same pairs, RSS on), core 0 sends
// GiveUp instead and every core's NIC is broken for good (a device that did
// not reset keeps its buffers: they are leaked, never reused under it).
//
// A core whose NIC has not started yet (it has not opened the network)
// holds nothing and is not waited for: at the start of a reset core 0 locks
// it out (one compare-and-swap on its membership word), and if that core
// starts meanwhile its NIC waits, holding nothing, until the reset is over
// and its pair has been set up again.
//
// Messages are pointers to constant notes in one SpscPtrRing per direction
// and core (one producer, one consumer); each ring holds at most two notes
// (a core sends Fault only while running, and Reclaimed after it), so a
// push never fails. A per-core mail counter lets a core's poll see "nothing
// for me" with one load; after each note the receiver is woken (`Wake`: a
// doorbell that stays pending if the core is not asleep yet).
#pragma once

#include <stdint.h>

#include <atomic>

#include "libos/rt/spsc_ring.h"

namespace ringlet::net {

class VirtioNic;

class MqRecovery {
public:
    static constexpr uint32_t kMaxCores = 16;  // virtio::NetMultiQueue::kMaxPairs
    using Wake = void (*)(void* ctx, uint32_t from, uint32_t to);

    enum class Note : uint8_t { Fault, Reclaimed, Reclaim, Resume, GiveUp };
    struct Message {
        Note note;
    };

    // `cores` pairs (2..kMaxCores; cores beyond take no part), core k's
    // VirtioNic driving pair k; core 0's owns the device. `wake` may be
    // null (a test polls every core).
    MqRecovery(uint32_t cores, Wake wake, void* wake_ctx)
        : m_cores(cores < kMaxCores ? cores : kMaxCores), m_wake(wake), m_wake_ctx(wake_ctx) {}
    MqRecovery(const MqRecovery&) = delete;
    MqRecovery& operator=(const MqRecovery&) = delete;

    uint32_t cores() const { return m_cores; }
    // Device resets core 0 made (its core only).
    uint64_t resets() const { return m_resets; }

    // True if a note waits for `core` (one acquire load; any core's poll).
    bool has_mail(uint32_t core) const {
        return m_mail[core].count.load(std::memory_order_acquire) != m_local[core].seen;
    }

private:
    friend class VirtioNic;
    enum class Phase : uint8_t { Running, Joining, Stopped, Reclaimed, Collecting, Broken };
    // A core's membership word: only core 0 moves Absent <-> Locked (or to
    // Gone), only the core itself Absent -> Joined.
    enum Member : uint32_t { kAbsent = 0, kJoined = 1, kLocked = 2, kGone = 3 };

    // From VirtioNic::start() on `core`: false if a reset runs (the NIC
    // then waits, phase Joining, and step() joins it afterwards).
    bool join(uint32_t core);
    // Core 0, at a reset's start and end: which cores take part.
    void lock_out_absent();
    void release_absent(Member to);

    // Core `core`'s share of the protocol, from its NIC's poll (VirtioNic::
    // recover): false while its pair may not be used.
    bool step(uint32_t core, VirtioNic& nic);
    bool lead(VirtioNic& nic);
    void begin_reset(VirtioNic& nic);
    void finish_reset(VirtioNic& nic);
    void give_up(VirtioNic& nic);
    void send(uint32_t from, uint32_t to, Note note);
    void broadcast(Note note);
    const Message* receive(uint32_t core, uint32_t from);
    // May `core` sleep with its NIC stopped? (No mail, and waiting on others.)
    bool may_sleep(uint32_t core, bool fault_unreported) const;

    using Ring = rt::SpscPtrRing<const Message, 4>;
    struct alignas(64) Mail {
        std::atomic<uint32_t> count{0};
        std::atomic<uint32_t> member{kAbsent};
    };
    // Written only by its core.
    struct alignas(64) Local {
        uint32_t seen = 0;
        Phase phase = Phase::Running;
    };

    uint32_t m_cores;
    Wake m_wake;
    void* m_wake_ctx;
    // Core 0's alone.
    uint64_t m_resets = 0;
    uint32_t m_waiting = 0;  // Reclaimed notes still to come
    bool m_giving_up = false;
    bool m_included[kMaxCores] = {};  // joined when the reset began
    bool m_locked[kMaxCores] = {};    // locked out by this reset
    Mail m_mail[kMaxCores];
    Local m_local[kMaxCores];
    Ring m_up[kMaxCores];    // core k -> core 0
    Ring m_down[kMaxCores];  // core 0 -> core k
};

}  // namespace ringlet::net
