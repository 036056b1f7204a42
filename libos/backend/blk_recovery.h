// BlkMqRecovery: resetting a multiqueue virtio-blk disk whose request
// queues are driven by different cores (issue 15 item 4 with issue 14's
// one request queue per core). The same protocol as the multiqueue NIC's
// (net/virtio_nic_recovery.h), with a disk's share of the work:
//
//   core k (its queue broke)  --Fault-->      core 0 (owns the device)
//   core 0: one console line, resets the device, fails queue 0's held
//           requests with IoError
//   core 0                    --Reclaim-->    every core k that joined
//   core k: stops submitting, takes its requests back from the reset
//           device and fails each with IoError (EIO to the app)
//   core k                    --Reclaimed-->  core 0
//   core 0, once every core answered: BlkDevice::restart() brings all N
//           queues up again (every queue's BlkDevice set up anew)
//   core 0                    --Resume-->     every core k: goes on
//
// No lock: the notes travel through an rt::ResetMailbox (libos/rt/
// reset_mailbox.h, shared with the NIC's MqRecovery). From the fault until
// Resume a core's requests fail with IoError at once; requests the device
// completed before stay completed. After max_resets resets, or if the
// device will not reset or come back with the same queues, GiveUp: every
// core's queue is broken for good (a device that did not reset keeps the
// requests it held - their buffers are never reused under it).
//
// A core that has not opened its queue holds nothing and is not waited
// for: core 0 locks it out for the reset (a compare-and-swap on its
// membership word); if it opens meanwhile it waits, submitting nothing,
// until the reset is over.
#pragma once

#include <stdint.h>


#include "drivers/virtio/blk.h"
#include "libos/rt/reset_mailbox.h"

namespace ringlet::backend {

// What the protocol needs of a core's queue driver.
class BlkRecoveryQueue {
public:
    // This core's request queue (queue 0's is the device's primary).
    virtual virtio::BlkDevice& recovery_device() = 0;
    // A request the reset device handed back (its cookie): fail it.
    virtual void recovery_fail(uint64_t cookie) = 0;

protected:
    ~BlkRecoveryQueue() = default;
};

class BlkMqRecovery {
public:
    static constexpr uint32_t kMaxCores = rt::ResetMailbox::kMaxCores;
    using Wake = rt::ResetMailbox::Wake;
    // A console line: what happened, at reset `reset` of `max`.
    using Report = void (*)(const char* what, uint32_t reset, uint32_t max);

    enum class State : uint8_t { Running, Stopped, Broken };

    BlkMqRecovery() = default;
    BlkMqRecovery(const BlkMqRecovery&) = delete;
    BlkMqRecovery& operator=(const BlkMqRecovery&) = delete;

    // Before any core uses its queue: `cores` queues (2..kMaxCores), queue
    // k driven by core k, core 0's the device's owner. `wake` and `report`
    // may be null (a test polls every core).
    void configure(uint32_t cores, uint32_t max_resets, Wake wake, void* wake_ctx, Report report);
    uint32_t cores() const { return m_box.cores(); }
    // Device resets core 0 made (its core only).
    uint32_t resets() const { return m_resets; }

    // Core `core` opened its queue: false if a reset runs (step() joins
    // it afterwards; until then its requests fail).
    bool join(uint32_t core);
    // Core `core`'s queue broke (or, on core 0, the device asked for a
    // reset): the next step() reports it.
    void fault(uint32_t core) { m_local[core].fault = true; }
    // Core `core`'s share of the protocol, from its poll.
    State step(uint32_t core, BlkRecoveryQueue& q);
    // Whether `core` may submit (its own view; its core only).
    bool running(uint32_t core) const { return m_local[core].phase == Phase::Running; }
    // May `core` sleep? False while it has mail or an unreported fault.
    bool may_sleep(uint32_t core) const;
    bool has_mail(uint32_t core) const { return m_box.has_mail(core); }

private:
    enum class Phase : uint8_t { Running, Joining, Stopped, Reclaimed, Collecting, Broken };
    using Note = rt::ResetMailbox::Note;
    using Message = rt::ResetMailbox::Message;
    using Member = rt::ResetMailbox::Member;

    State state(uint32_t core) const;
    State lead(BlkRecoveryQueue& q);
    void begin_reset(BlkRecoveryQueue& q);
    void finish_reset(BlkRecoveryQueue& q);
    void give_up();
    void report(const char* what) const;
    static void fail_held(BlkRecoveryQueue& q);

    // Written only by its core.
    struct alignas(64) Local {
        Phase phase = Phase::Running;
        bool fault = false;
    };

    rt::ResetMailbox m_box;
    uint32_t m_max_resets = 0;
    Report m_report = nullptr;
    // Core 0's alone.
    uint32_t m_resets = 0;
    uint32_t m_waiting = 0;
    bool m_giving_up = false;
    Local m_local[kMaxCores];
};

}  // namespace ringlet::backend
