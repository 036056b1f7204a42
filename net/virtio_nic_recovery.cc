// VirtioNic's recovery from a misbehaving device (issue 15 item 4): reset,
// take back what the device held, bring it up again, refill RX. Apart from
// virtio_nic.cc: nothing here runs per packet.
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

bool VirtioNic::recover() {
    if (m_broken) return false;
    if (!m_needs_reset) return true;
    m_needs_reset = false;
    ++m_stats.resets;
    const bool give_up = m_stats.resets > kMaxResets;
    report_reset(give_up ? "device misbehaved again, giving it up" : "device misbehaved, resetting it",
                 m_stats.resets, kMaxResets);
    // Section 2.4: after the reset reads back 0 the device touches no ring
    // and no buffer; only then are the buffers it held ours again. A device
    // that will not reset may still write into them: keep them (leak) and
    // give the device up.
    if (!m_dev.reset().ok()) {
        report("virtio-net: the device does not reset; given up");
        m_broken = true;
        return false;
    }
    // RX buffers still posted go back to the heap. Buffers the device had
    // already returned belong to the stack or the app and are not touched.
    for (auto rx = m_dev.reclaim_rx(); rx.ok(); rx = m_dev.reclaim_rx()) {
        m_heap->release(reinterpret_cast<mem::Buffer*>(*rx));
    }
    m_rx_posted = 0;
    // TX frames in flight are dropped, as a wire would drop them.
    while (m_dev.reclaim_tx().ok()) {
    }
    for (uint32_t slot = 0; slot < kMaxInFlight; ++slot) {
        for (uint32_t i = 0; i < m_tx_count[slot]; ++i) m_heap->release(m_tx[slot][i]);
        m_tx_count[slot] = 0;
    }
    if (give_up) {
        m_broken = true;
        return false;
    }
    if (auto r = m_dev.restart(); !r) {
        report("virtio-net: the device did not come back; given up");
        m_broken = true;
        return false;
    }
    // As start(): a full RX ring, polling with interrupts off.
    while (m_rx_posted < m_dev.rx_queue_size() && post_rx_buffer().ok()) {
    }
    (void)m_dev.kick_rx();
    m_dev.disable_interrupts();
    return true;
}

}  // namespace ringlet::net
