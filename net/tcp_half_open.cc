// The half-open connection cap per listener (issue 15 item 5), lwIP's side.
//
// With TCP_LISTEN_BACKLOG, lwIP counts a listener's connections still in the
// handshake (SYN_RCVD) in accepts_pending and ignores SYNs beyond its
// backlog (tcp_half_open_cap: 32..64 by the app's listen backlog, net/queues.h). Alone that would let a SYN flood
// from addresses that never answer lock real clients out until the
// half-open ones time out (20 s). So a SYN that finds the listener full
// first evicts that listener's oldest half-open connection if it has waited
// at least kMinEvictTicks (about a second) for the peer's ACK, silently (its
// peer, likely spoofed, gets no RST). A burst of real clients (each answers
// within a round trip) is not evicted by its own later SYNs, which are
// dropped and sent again by their clients; a flood only churns its own
// stale entries, so a real client's SYN is answered at its first or second
// retransmission; what a peer can pin stays at most kTcpMaxHalfOpenBurst pcbs.
#include "libos/mem/dataplane_stats.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "net/queues.h"

namespace {
// lwIP's slow timer ticks (TCP_SLOW_INTERVAL, 500 ms) a half-open connection
// must have waited before a new SYN may evict it.
constexpr u32_t kMinEvictTicks = 2;
}  // namespace

extern "C" signed char ringlet_lwip_listen_input(struct tcp_pcb* listener, const struct tcp_hdr* hdr) {
    auto* l = reinterpret_cast<tcp_pcb_listen*>(listener);
    // A connection request only: SYN without ACK (tcp_listen_input answers
    // anything else with a RST or ignores it).
    if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK)) != TCP_SYN) return ERR_OK;
    if (l->accepts_pending < l->backlog) return ERR_OK;
    tcp_pcb* oldest = nullptr;
    for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) {
        if (p->state != SYN_RCVD || p->listener != l) continue;
        // tmr: the tick of the pcb's last activity (its creation, for one
        // that never heard back).
        if (oldest == nullptr || static_cast<u32_t>(tcp_ticks - p->tmr) > static_cast<u32_t>(tcp_ticks - oldest->tmr)) {
            oldest = p;
        }
    }
    if (oldest != nullptr && static_cast<u32_t>(tcp_ticks - oldest->tmr) < kMinEvictTicks) oldest = nullptr;
    if (oldest == nullptr) {
        ++ringlet::mem::g_dataplane_stats.tcp_syn_dropped;  // tcp_listen_input drops it: the listener is full
    } else {
        // Frees the pcb and gives the listener its slot back
        // (tcp_pcb_purge -> tcp_backlog_accepted); no callback is set on a
        // connection nobody accepted yet.
        tcp_abandon(oldest, 0);
        ++ringlet::mem::g_dataplane_stats.tcp_half_open_evicted;
    }
    return ERR_OK;
}
