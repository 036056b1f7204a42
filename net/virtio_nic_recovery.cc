// VirtioNic's recovery from a misbehaving device (issue 15 item 4): reset,
// take back what the device held, bring it up again, refill RX - alone
// with one queue pair, or with the other cores' NICs of a multiqueue device
// (MqRecovery, virtio_nic_recovery.h). Apart from virtio_nic.cc: nothing
// here runs per packet.
#include "net/lwip/sys_glue.h"
#include "net/virtio_nic.h"

namespace ringlet::net {

namespace {

// "virtio-net: <what> (reset N of M)" without a printf: the report hook
// takes finished lines.
void report_reset(const char* what, uint64_t n, uint64_t max) {
    char line[128];
    uint32_t at = 0;
    auto put = [&](const char* s) {
        while (*s != '\0' && at + 1 < sizeof line) line[at++] = *s++;
    };
    auto put_number = [&](uint64_t v) {
        char digits[20];
        uint32_t k = 0;
        do {
            digits[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (k > 0 && at + 1 < sizeof line) line[at++] = digits[--k];
    };
    put("virtio-net: ");
    put(what);
    put(" (reset ");
    put_number(n);
    put(" of ");
    put_number(max);
    put(")");
    line[at] = '\0';
    report(line);
}

}  // namespace

void VirtioNic::note_config_change() {
    if (m_dev.transport().needs_reset()) m_needs_reset = true;
}

void VirtioNic::take_back_buffers() {
    // Section 2.4: after the reset reads back 0 the device touches no ring
    // and no buffer; only then are the buffers it held ours again. RX
    // buffers still posted go back to the heap. Buffers the device had
    // already returned belong to the stack or the app and are not touched.
    for (auto rx = m_dev.reclaim_rx(); rx.ok(); rx = m_dev.reclaim_rx()) {
        m_heap->release(reinterpret_cast<mem::Buffer*>(*rx));
    }
    m_rx_posted = 0;
    // TX frames in flight are dropped, as a wire would drop them.
    for (auto tx = m_dev.reclaim_tx(); tx.ok(); tx = m_dev.reclaim_tx()) {
        (void)for_each_sent(*tx, [&](mem::Buffer* b) { m_heap->release(b); });
    }
    for (uint32_t slot = 0; slot < kMaxInFlight; ++slot) {
        if (m_tx_count[slot] != 0) drop_tx(m_tx[slot], m_tx_count[slot], m_tx_lent[slot]);
        m_tx_count[slot] = 0;
    }
}

Result<void> VirtioNic::stop() {
    if (m_group != nullptr) return Error::Unsupported;
    if (m_heap == nullptr || m_stopped) return {};  // never started, or stopped already
    for (uint32_t slot = 0; slot < kMaxInFlight; ++slot) {
        if (m_tx_count[slot] != 0 && m_tx_lent[slot] != 0) return Error::Busy;  // another core's frame
    }
    if (!m_dev.reset().ok()) {
        report("virtio-net: the device does not reset; given up");
        m_broken = true;
        return Error::IoError;
    }
    // Section 2.4: the device touches nothing any more. The heap these
    // buffers counted in is gone with the libOS that closed, so they are
    // forgotten, not released; TX frames in flight are dropped.
    while (m_dev.reclaim_rx().ok()) {
    }
    while (m_dev.reclaim_tx().ok()) {
    }
    m_rx_posted = 0;
    for (uint32_t slot = 0; slot < kMaxInFlight; ++slot) m_tx_count[slot] = 0;
    m_heap = nullptr;
    m_stopped = true;
    return {};
}

void VirtioNic::rearm() {
    // As start(): a full RX ring, polling with interrupts off.
    while (m_rx_posted < m_dev.rx_queue_size() && post_rx_buffer().ok()) {
    }
    (void)m_dev.kick_rx();
    set_thresholds();
    m_dev.disable_interrupts();
}

bool VirtioNic::may_sleep_stopped() const {
    if (m_broken) return true;  // nothing will come from this device
    if (m_group == nullptr) return false;  // poll(): it resets the device at once
    return m_group->may_sleep(m_core, m_needs_reset && m_group->m_local[m_core].phase == MqRecovery::Phase::Running);
}

bool VirtioNic::recover() {
    if (m_broken) return false;
    if (m_group != nullptr) return m_group->step(m_core, *this);
    if (!m_needs_reset) return true;
    m_needs_reset = false;
    ++m_stats.resets;
    const bool give_up = m_stats.resets > kMaxResets;
    report_reset(give_up ? "device misbehaved again, giving it up" : "device misbehaved, resetting it",
                 m_stats.resets, kMaxResets);
    // A device that will not reset may still write into its buffers: keep
    // them (leak) and give the device up.
    if (!m_dev.reset().ok()) {
        report("virtio-net: the device does not reset; given up");
        m_broken = true;
        return false;
    }
    take_back_buffers();
    if (give_up) {
        m_broken = true;
        return false;
    }
    if (auto r = m_dev.restart(); !r) {
        report("virtio-net: the device did not come back; given up");
        m_broken = true;
        return false;
    }
    rearm();
    return true;
}

// ---- MqRecovery (virtio_nic_recovery.h) ----

bool MqRecovery::join(uint32_t core) {
    if (core == 0) return true;
    Member found{};
    if (m_box.try_join(core, &found)) return true;
    m_local[core].phase = Phase::Joining;
    return false;
}

bool MqRecovery::may_sleep(uint32_t core, bool fault_unreported) const {
    if (fault_unreported || has_mail(core)) return false;
    const Phase p = m_local[core].phase;
    if (p == Phase::Joining) return m_box.member(core) == Member::kLocked;
    // Waiting for notes: woken when one comes. Core 0 is also woken by
    // the device's interrupt, so it may sleep while collecting.
    return p == Phase::Stopped || p == Phase::Reclaimed || p == Phase::Collecting || p == Phase::Broken;
}

bool MqRecovery::step(uint32_t core, VirtioNic& nic) {
    if (core == 0) return lead(nic);
    Local& me = m_local[core];
    if (me.phase == Phase::Joining) {
        Member found{};
        if (m_box.try_join(core, &found)) {
            nic.m_needs_reset = false;
            nic.rearm();  // what start() left undone
            me.phase = Phase::Running;
        } else if (found == Member::kGone) {
            nic.m_needs_reset = false;
            nic.m_broken = true;
            me.phase = Phase::Broken;
        }
        return me.phase == Phase::Running;
    }
    if (nic.m_needs_reset && me.phase == Phase::Running) {
        // Our pair broke (or the device asked for a reset): stop, tell core 0.
        me.phase = Phase::Stopped;
        m_box.send(core, 0, Note::Fault);
    }
    m_box.take_mail(core);
    while (const Message* m = m_box.pop_down(core)) {
        switch (m->note) {
        case Note::Reclaim:
            // The device is reset: what our pair held is ours again.
            nic.m_needs_reset = true;
            ++nic.m_stats.resets;
            nic.take_back_buffers();
            me.phase = Phase::Reclaimed;
            m_box.send(core, 0, Note::Reclaimed);
            break;
        case Note::Resume:
            // Core 0 set our queues up again: refill RX and go on.
            nic.m_needs_reset = false;
            nic.rearm();
            me.phase = Phase::Running;
            break;
        case Note::GiveUp:
            nic.m_needs_reset = false;
            nic.m_broken = true;
            me.phase = Phase::Broken;
            return false;
        default:
            break;
        }
    }
    return me.phase == Phase::Running;
}

bool MqRecovery::lead(VirtioNic& nic) {
    Local& me = m_local[0];
    bool fault = nic.m_needs_reset && me.phase == Phase::Running;
    m_box.take_mail(0);
    for (uint32_t k = 1; k < m_box.cores(); ++k) {
        while (const Message* m = m_box.pop_up(k)) {
            // A Fault while collecting was seen before that core's
            // Reclaimed: this reset covers it.
            if (m->note == Note::Fault && me.phase == Phase::Running) fault = true;
            if (m->note == Note::Reclaimed && me.phase == Phase::Collecting) --m_waiting;
        }
    }
    if (fault) begin_reset(nic);
    if (me.phase == Phase::Collecting && m_waiting == 0) finish_reset(nic);
    return me.phase == Phase::Running;
}

void MqRecovery::begin_reset(VirtioNic& nic) {
    ++m_resets;
    ++nic.m_stats.resets;
    m_giving_up = m_resets > VirtioNic::kMaxResets;
    report_reset(m_giving_up ? "multiqueue device misbehaved again, giving it up"
                             : "multiqueue device misbehaved, resetting every queue pair",
                 m_resets, VirtioNic::kMaxResets);
    nic.m_needs_reset = true;  // pair 0 stops too
    if (!nic.m_dev.reset().ok()) {
        // The pairs' buffers may still be written: nobody takes them back.
        report("virtio-net: the device does not reset; given up");
        give_up(nic);
        return;
    }
    nic.take_back_buffers();
    m_box.lock_out_absent();
    m_box.broadcast(Note::Reclaim);
    m_waiting = m_box.included_count();
    m_local[0].phase = Phase::Collecting;
}

void MqRecovery::finish_reset(VirtioNic& nic) {
    if (m_giving_up) {
        give_up(nic);
        return;
    }
    if (auto r = nic.m_dev.restart(); !r) {
        report("virtio-net: the multiqueue device did not come back as it was; given up");
        give_up(nic);
        return;
    }
    nic.rearm();
    nic.m_needs_reset = false;
    m_local[0].phase = Phase::Running;
    m_box.broadcast(Note::Resume);
    m_box.release_absent(Member::kAbsent);
}

void MqRecovery::give_up(VirtioNic& nic) {
    if (m_local[0].phase != Phase::Collecting) m_box.lock_out_absent();  // the device did not even reset
    m_box.broadcast(Note::GiveUp);
    m_box.release_absent(Member::kGone);
    nic.m_needs_reset = false;
    nic.m_broken = true;
    m_local[0].phase = Phase::Broken;
}

}  // namespace ringlet::net
