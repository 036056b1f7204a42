// BlkMqRecovery (blk_recovery.h): nothing here runs per request; a poll
// looks at its mail counter only.
#include "libos/backend/blk_recovery.h"

namespace ringlet::backend {

namespace {
constexpr BlkMqRecovery::Message kNotes[] = {{BlkMqRecovery::Note::Fault},
                                             {BlkMqRecovery::Note::Reclaimed},
                                             {BlkMqRecovery::Note::Reclaim},
                                             {BlkMqRecovery::Note::Resume},
                                             {BlkMqRecovery::Note::GiveUp}};
}  // namespace

void BlkMqRecovery::configure(uint32_t cores, uint32_t max_resets, Wake wake, void* wake_ctx, Report report) {
    m_cores = cores < kMaxCores ? cores : kMaxCores;
    m_max_resets = max_resets;
    m_wake = wake;
    m_wake_ctx = wake_ctx;
    m_report = report;
}

void BlkMqRecovery::report(const char* what) const {
    if (m_report != nullptr) m_report(what, m_resets, m_max_resets);
}

void BlkMqRecovery::send(uint32_t from, uint32_t to, Note note) {
    Ring& ring = to == 0 ? m_up[from] : m_down[to];
    // At most two notes wait per ring (Fault then Reclaimed up; Reclaim
    // then Resume or GiveUp down): never full.
    (void)ring.try_push(&kNotes[static_cast<uint32_t>(note)]);
    // After the push: a receiver that sees the count sees the note.
    m_mail[to].count.fetch_add(1, std::memory_order_release);
    if (m_wake != nullptr) m_wake(m_wake_ctx, from, to);
}

void BlkMqRecovery::broadcast(Note note) {
    for (uint32_t k = 1; k < m_cores; ++k) {
        if (m_included[k]) send(0, k, note);
    }
}

bool BlkMqRecovery::join(uint32_t core) {
    if (core == 0) return true;
    uint32_t expected = kAbsent;
    // Acquire: after a reset, core 0's setup of our queue happened before.
    if (m_mail[core].member.compare_exchange_strong(expected, kJoined, std::memory_order_acq_rel)) return true;
    m_local[core].phase = expected == kGone ? Phase::Broken : Phase::Joining;
    return false;
}

void BlkMqRecovery::lock_out_absent() {
    for (uint32_t k = 1; k < m_cores; ++k) {
        uint32_t expected = kAbsent;
        m_locked[k] = m_mail[k].member.compare_exchange_strong(expected, kLocked, std::memory_order_acq_rel);
        m_included[k] = !m_locked[k] && expected == kJoined;
    }
}

void BlkMqRecovery::release_absent(Member to) {
    for (uint32_t k = 1; k < m_cores; ++k) {
        if (!m_locked[k]) continue;
        m_locked[k] = false;
        // Release: our setup of queue k happens before its core joins.
        m_mail[k].member.store(to, std::memory_order_release);
        if (m_wake != nullptr) m_wake(m_wake_ctx, 0, k);  // it may sleep waiting to join
    }
}

BlkMqRecovery::State BlkMqRecovery::state(uint32_t core) const {
    const Phase p = m_local[core].phase;
    return p == Phase::Running ? State::Running : p == Phase::Broken ? State::Broken : State::Stopped;
}

bool BlkMqRecovery::may_sleep(uint32_t core) const {
    const Local& me = m_local[core];
    if (me.fault || has_mail(core)) return false;
    // Joining: woken when core 0 releases it. Otherwise waiting for notes
    // (woken when one comes) or running (the queue's own wake-ups).
    if (me.phase == Phase::Joining) return m_mail[core].member.load(std::memory_order_acquire) == kLocked;
    return true;
}

void BlkMqRecovery::fail_held(BlkRecoveryQueue& q) {
    // The device was reset (section 2.4: it touches no ring or buffer any
    // more): what it held was never acknowledged and fails.
    virtio::BlkDevice& dev = q.recovery_device();
    for (auto cookie = dev.reclaim(); cookie.ok(); cookie = dev.reclaim()) q.recovery_fail(*cookie);
}

BlkMqRecovery::State BlkMqRecovery::step(uint32_t core, BlkRecoveryQueue& q) {
    if (core == 0) return lead(q);
    Local& me = m_local[core];
    if (me.phase == Phase::Joining) {
        uint32_t expected = kAbsent;
        if (m_mail[core].member.compare_exchange_strong(expected, kJoined, std::memory_order_acq_rel)) {
            q.recovery_device().disable_interrupts();  // polling, as open() left the others
            me.phase = Phase::Running;
        } else if (expected == kGone) {
            me.phase = Phase::Broken;
        }
        me.fault = false;
        return state(core);
    }
    if (me.fault && me.phase == Phase::Running) {
        // Our queue broke: stop submitting, tell core 0.
        me.phase = Phase::Stopped;
        send(core, 0, Note::Fault);
    }
    me.fault = false;
    me.seen = m_mail[core].count.load(std::memory_order_acquire);
    while (const Message* m = m_down[core].try_pop()) {
        switch (m->note) {
        case Note::Reclaim:
            fail_held(q);
            me.phase = Phase::Reclaimed;
            send(core, 0, Note::Reclaimed);
            break;
        case Note::Resume:
            // Core 0 set our queue up again (interrupts on, as any new queue).
            q.recovery_device().disable_interrupts();
            me.phase = Phase::Running;
            break;
        case Note::GiveUp:
            me.phase = Phase::Broken;
            break;
        default:
            break;
        }
    }
    return state(core);
}

BlkMqRecovery::State BlkMqRecovery::lead(BlkRecoveryQueue& q) {
    Local& me = m_local[0];
    bool fault = me.fault && me.phase == Phase::Running;
    me.fault = false;
    me.seen = m_mail[0].count.load(std::memory_order_acquire);
    for (uint32_t k = 1; k < m_cores; ++k) {
        while (const Message* m = m_up[k].try_pop()) {
            // A Fault that comes while collecting was sent before that
            // core's Reclaimed: this reset covers it.
            if (m->note == Note::Fault && me.phase == Phase::Running) fault = true;
            if (m->note == Note::Reclaimed && me.phase == Phase::Collecting) --m_waiting;
        }
    }
    if (fault) begin_reset(q);
    if (me.phase == Phase::Collecting && m_waiting == 0) finish_reset(q);
    return state(0);
}

void BlkMqRecovery::begin_reset(BlkRecoveryQueue& q) {
    ++m_resets;
    m_giving_up = m_resets > m_max_resets;
    report(m_giving_up ? "multiqueue device misbehaved again, giving it up"
                       : "multiqueue device misbehaved, resetting every request queue");
    lock_out_absent();
    if (!q.recovery_device().reset().ok()) {
        // The queues' requests may still be written: nobody takes them back.
        report("the device does not reset; given up");
        give_up();
        return;
    }
    fail_held(q);
    broadcast(Note::Reclaim);
    m_waiting = 0;
    for (uint32_t k = 1; k < m_cores; ++k) m_waiting += m_included[k] ? 1 : 0;
    m_local[0].phase = Phase::Collecting;
}

void BlkMqRecovery::finish_reset(BlkRecoveryQueue& q) {
    if (m_giving_up) {
        give_up();
        return;
    }
    if (!q.recovery_device().restart().ok()) {
        report("the multiqueue device did not come back as it was; given up");
        give_up();
        return;
    }
    q.recovery_device().disable_interrupts();
    m_local[0].phase = Phase::Running;
    broadcast(Note::Resume);
    release_absent(kAbsent);
}

void BlkMqRecovery::give_up() {
    broadcast(Note::GiveUp);
    release_absent(kGone);
    m_local[0].phase = Phase::Broken;
}

}  // namespace ringlet::backend
