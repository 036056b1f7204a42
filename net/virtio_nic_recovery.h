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
// The notes travel through an rt::ResetMailbox (libos/rt/reset_mailbox.h,
// shared with the multiqueue disk's BlkMqRecovery): one SpscPtrRing per
// direction and core, a mail counter per core, a doorbell after each note.
#pragma once

#include <stdint.h>


#include "libos/rt/reset_mailbox.h"

namespace ringlet::net {

class VirtioNic;

class MqRecovery {
public:
    static constexpr uint32_t kMaxCores = rt::ResetMailbox::kMaxCores;  // virtio::NetMultiQueue::kMaxPairs
    using Wake = rt::ResetMailbox::Wake;

    // `cores` pairs (2..kMaxCores; cores beyond take no part), core k's
    // VirtioNic driving pair k; core 0's owns the device. `wake` may be
    // null (a test polls every core).
    MqRecovery(uint32_t cores, Wake wake, void* wake_ctx) { m_box.configure(cores, wake, wake_ctx); }
    MqRecovery(const MqRecovery&) = delete;
    MqRecovery& operator=(const MqRecovery&) = delete;

    uint32_t cores() const { return m_box.cores(); }
    // Device resets core 0 made (its core only).
    uint64_t resets() const { return m_resets; }

    // True if a note waits for `core` (one acquire load; any core's poll).
    bool has_mail(uint32_t core) const { return m_box.has_mail(core); }

private:
    friend class VirtioNic;
    enum class Phase : uint8_t { Running, Joining, Stopped, Reclaimed, Collecting, Broken };
    using Note = rt::ResetMailbox::Note;
    using Message = rt::ResetMailbox::Message;
    using Member = rt::ResetMailbox::Member;

    // From VirtioNic::start() on `core`: false if a reset runs (the NIC
    // then waits, phase Joining, and step() joins it afterwards).
    bool join(uint32_t core);

    // Core `core`'s share of the protocol, from its NIC's poll (VirtioNic::
    // recover): false while its pair may not be used.
    bool step(uint32_t core, VirtioNic& nic);
    bool lead(VirtioNic& nic);
    void begin_reset(VirtioNic& nic);
    void finish_reset(VirtioNic& nic);
    void give_up(VirtioNic& nic);
    // May `core` sleep with its NIC stopped? (No mail, and waiting on others.)
    bool may_sleep(uint32_t core, bool fault_unreported) const;

    // Written only by its core.
    struct alignas(64) Local {
        Phase phase = Phase::Running;
    };

    rt::ResetMailbox m_box;
    // Core 0's alone.
    uint64_t m_resets = 0;
    uint32_t m_waiting = 0;  // Reclaimed notes still to come
    bool m_giving_up = false;
    Local m_local[kMaxCores];
};

}  // namespace ringlet::net
