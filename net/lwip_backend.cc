#include "net/lwip_backend.h"

#include <new>

#include "net/dma_pbuf.h"
#include "net/queues.h"
#include "net/stack.h"
#include "net/tcp_fast_path.h"
#include "lwip/priv/tcp_priv.h"

#include <sys/socket.h>

namespace ringlet::net {

namespace {
// lwIP is one stack per process: at most one backend drives it.
LwipBackend* g_running = nullptr;

// lwIP's clock is the executor's (read once per round, not per sys_now()),
// and the platform's once the executor is gone (teardown).
uint64_t backend_clock(void* ctx) { return static_cast<LwipBackend*>(ctx)->clock_ns(); }
}  // namespace

LwipBackend::~LwipBackend() {
    // Destroyed after the LibOs (resources.h): the executor and the DMA heap
    // are gone, so nothing here may touch them. Wrapped buffers freed from
    // now on only return their wrapper.
    if (m_started) attach_heap(nullptr);
    m_exec = nullptr;
    // Every interface first: an abort's RST may leave through another one.
    for (uint32_t i = 0; i < m_count; ++i) {
        if (m_netifs[i] != nullptr) m_netifs[i]->forget_heap();
    }
    for (uint32_t i = 0; i < m_count; ++i) {
        if (m_netifs[i] == nullptr) continue;
        m_netifs[i]->~Netif();  // detaches: lwIP aborts its pcbs
        m_netifs[i] = nullptr;
    }
    if (m_started) stack_abort_orphan_pcbs();
    if (g_running == this) g_running = nullptr;
}

Result<void> LwipBackend::add_interface(NicPort& nic, const NetConfig& cfg) {
    if (m_started) return Error::Busy;
    if (m_count == kMaxInterfaces) return Error::Full;
    m_nics[m_count] = &nic;
    m_configs[m_count] = cfg;
    ++m_count;
    return {};
}

Result<void> LwipBackend::start(rt::Executor& exec, mem::DmaHeap& heap) {
    if (m_count == 0) return Error::InvalidArgument;
    if (m_started || (g_running != nullptr && g_running != this)) return Error::Busy;
    m_exec = &exec;
    m_heap = &heap;
    const MacAddress mac = m_nics[0]->mac();
    uint64_t seed = m_platform.now_ns();
    for (uint8_t b : mac.bytes) seed = seed * 131 + b;
    TRY(stack_init(backend_clock, this, seed));
    tcp_fast_reset();  // memp_init took back the tcp_segs the fast paths kept
    attach_heap(&heap);
    g_running = this;
    m_started = true;
    // Every NIC runs before any interface comes up: bringing one up sends
    // a gratuitous ARP, which may reach another of our NICs.
    for (uint32_t i = 0; i < m_count; ++i) {
        TRY(m_nics[i]->start(heap));
        if (m_nics[i]->tx_headroom() > m_tx_headroom) m_tx_headroom = m_nics[i]->tx_headroom();
    }
    for (uint32_t i = 0; i < m_count; ++i) {
        m_netifs[i] = new (m_netif_storage[i]) Netif(*m_nics[i], heap);
        TRY(m_netifs[i]->attach(m_configs[i], i == 0));
        m_netifs[i]->set_udp_ports(&m_udp_ports);
    }
    m_timer.owner = this;
    m_timer.fire = on_timer;
    // Polled inline by the executor's rounds (no poll task): the frame path
    // starts straight from the round.
    TRY(exec.add_poller(*this));
    kick();
    return {};
}

Result<pdpix::Queue*> LwipBackend::socket(int domain, int type, int protocol) {
    if (!m_started) return Error::InvalidArgument;
    if (domain != AF_INET || (protocol != 0 && protocol != IPPROTO_UDP && protocol != IPPROTO_TCP)) {
        return Error::Unsupported;
    }
    if (type == SOCK_DGRAM) return make_udp_queue(*this);
    if (type == SOCK_STREAM) return make_tcp_queue(*this);
    return Error::Unsupported;
}

void LwipBackend::destroy(pdpix::Queue* q) { delete q; }

void LwipBackend::after_lwip_call(bool tcp_timer_was_running) {
    // With the TCP timer running before the call, lwIP added no timer (the
    // cyclic ones re-arm only inside stack_check_timeouts, which kicks), so
    // its earliest deadline is the one armed already.
    if (!tcp_timer_was_running || !m_timer_armed) kick();
}

uint32_t LwipBackend::poll(uint32_t max) {
    uint32_t handled = 0;
    bool may_add_timer = false;  // a frame went to lwIP with its TCP timer stopped
    bool tx_stalled = false;     // a frame found the NIC's ring full (Netif::take_tx_stalled)
    for (Netif* const* it = m_netifs; it != m_netifs + m_count && handled < max; ++it) {
        Netif* n = *it;
        if (n == nullptr) continue;
        handled += n->poll(max - handled);
        may_add_timer |= n->take_timer_hint();
        tx_stalled |= n->take_tx_stalled();
    }
    // The NIC was just polled (its sent frames reaped): segments it had no
    // room for go now, not at their connection's next ACK or timer. Still
    // no room: the flag is up again and the next poll tries again. Not
    // counted as work: a core with nothing else to do sleeps, and the
    // ACKs of the frames filling the ring wake it.
    if (tx_stalled) [[unlikely]] (void)stack_output_unsent();
    // lwIP's timers run only once the earliest is due; a frame lwIP handled
    // may have started an earlier one (TCP's timer, when it was stopped),
    // which kick() notices. Frames of the UDP fast path, TX completions and
    // segments while the TCP timer runs leave lwIP's timers as they were.
    if (m_exec->now_ns() >= m_lwip_due) {
        (void)stack_check_timeouts();
        kick();
    } else if (may_add_timer) {
        after_lwip_call(false);
    }
    return handled;
}

void LwipBackend::kick() {
    if (m_exec == nullptr) return;
    const uint32_t ms = stack_next_timeout_ms();
    const uint64_t due = ms == ~uint32_t{0} ? rt::kForever : m_exec->now_ns() + static_cast<uint64_t>(ms) * 1000000u;
    // lwIP counts in whole ms: the same deadline, re-derived a little
    // later, lands within a ms of the armed one - leave the timer be.
    if (m_timer_armed && (due > m_lwip_due ? due - m_lwip_due : m_lwip_due - due) <= 1000000u) return;
    m_exec->remove_timer(&m_timer);
    m_timer_armed = false;
    m_lwip_due = due;
    if (due == rt::kForever) return;
    m_timer.deadline_ns = due;
    // A full timer heap only delays lwIP's timers to the next poll turn.
    m_timer_armed = m_exec->add_timer(&m_timer);
}

Netif* LwipBackend::route(uint32_t dst, uint32_t src, uint32_t* next_hop) {
    Netif* out = nullptr;
    for (uint32_t i = 0; i < m_count && out == nullptr; ++i) {
        if (src != 0 && m_netifs[i]->address() == src) out = m_netifs[i];
    }
    for (uint32_t i = 0; i < m_count && out == nullptr; ++i) {
        if (((dst ^ m_netifs[i]->address()) & m_netifs[i]->netmask()) == 0) out = m_netifs[i];
    }
    if (out == nullptr) out = m_count > 0 ? m_netifs[0] : nullptr;
    if (out != nullptr) *next_hop = ((dst ^ out->address()) & out->netmask()) == 0 ? dst : out->gateway();
    return out;
}

void LwipBackend::on_timer(rt::Timer* t) {
    // Runs inside the executor between tasks: only wake the poll task, which
    // runs lwIP's timers in its own turn.
    LwipBackend* be = static_cast<LwipTimer*>(t)->owner;
    be->m_timer_armed = false;  // the executor took it off its heap
    be->m_exec->notify_pollers();
}

}  // namespace ringlet::net
