// BlkMqRecovery (blk_recovery.h): nothing here runs per request; a poll
// looks at its mail counter only.
#include "libos/backend/blk_recovery.h"

namespace ringlet::backend {

void BlkMqRecovery::configure(uint32_t cores, uint32_t max_resets, Wake wake, void* wake_ctx, Report report) {
    m_box.configure(cores, wake, wake_ctx);
    m_max_resets = max_resets;
    m_report = report;
}

void BlkMqRecovery::report(const char* what) const {
    if (m_report != nullptr) m_report(what, m_resets, m_max_resets);
}

bool BlkMqRecovery::join(uint32_t core) {
    if (core == 0) return true;
    Member found{};
    if (m_box.try_join(core, &found)) return true;
    m_local[core].phase = found == Member::kGone ? Phase::Broken : Phase::Joining;
    return false;
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
    if (me.phase == Phase::Joining) return m_box.member(core) == Member::kLocked;
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
        Member found{};
        if (m_box.try_join(core, &found)) {
            q.recovery_device().disable_interrupts();  // polling, as open() left the others
            me.phase = Phase::Running;
        } else if (found == Member::kGone) {
            me.phase = Phase::Broken;
        }
        me.fault = false;
        return state(core);
    }
    if (me.fault && me.phase == Phase::Running) {
        // Our queue broke: stop submitting, tell core 0.
        me.phase = Phase::Stopped;
        m_box.send(core, 0, Note::Fault);
    }
    me.fault = false;
    m_box.take_mail(core);
    while (const Message* m = m_box.pop_down(core)) {
        switch (m->note) {
        case Note::Reclaim:
            fail_held(q);
            me.phase = Phase::Reclaimed;
            m_box.send(core, 0, Note::Reclaimed);
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
    m_box.take_mail(0);
    for (uint32_t k = 1; k < m_box.cores(); ++k) {
        while (const Message* m = m_box.pop_up(k)) {
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
    m_box.lock_out_absent();
    if (!q.recovery_device().reset().ok()) {
        // The queues' requests may still be written: nobody takes them back.
        report("the device does not reset; given up");
        give_up();
        return;
    }
    fail_held(q);
    m_box.broadcast(Note::Reclaim);
    m_waiting = m_box.included_count();
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
    m_box.broadcast(Note::Resume);
    m_box.release_absent(Member::kAbsent);
}

void BlkMqRecovery::give_up() {
    m_box.broadcast(Note::GiveUp);
    m_box.release_absent(Member::kGone);
    m_local[0].phase = Phase::Broken;
}

}  // namespace ringlet::backend
