#include "net/stack.h"

#include "lwip/init.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "net/netif.h"

namespace ringlet::net {

namespace {
bool g_ready = false;

uint32_t count(tcp_pcb* list) {
    uint32_t n = 0;
    for (tcp_pcb* p = list; p != nullptr; p = p->next) ++n;
    return n;
}
}  // namespace

Result<void> stack_init(ClockFn clock, void* clock_ctx, uint64_t seed) {
    set_clock(clock, clock_ctx);
    seed_random(seed);
    if (!g_ready) {
        // lwip_init() sets up pools, the heap and the cyclic timers; running
        // it twice would reset pools under live pcbs, hence once per process.
        lwip_init();
        g_ready = true;
    }
    return {};
}

bool stack_ready() { return g_ready; }

uint32_t stack_check_timeouts() {
    sys_check_timeouts();
    note_arp_may_change();  // etharp_tmr may have expired an entry
    return sys_timeouts_sleeptime();
}

uint32_t stack_next_timeout_ms() { return sys_timeouts_sleeptime(); }

DropStats stack_drop_stats() {
    DropStats s{};
    s.link_drop = lwip_stats.link.drop;
    s.arp_drop = lwip_stats.etharp.drop;
    s.ip_drop = lwip_stats.ip.drop;
    s.ip_chkerr = lwip_stats.ip.chkerr;
    s.ip_lenerr = lwip_stats.ip.lenerr;
    s.icmp_drop = lwip_stats.icmp.drop;
    s.icmp_chkerr = lwip_stats.icmp.chkerr;
    s.udp_drop = lwip_stats.udp.drop;
    s.tcp_drop = lwip_stats.tcp.drop;
    s.udp_chkerr = lwip_stats.udp.chkerr;
    s.tcp_chkerr = lwip_stats.tcp.chkerr;
    return s;
}

uint32_t stack_output_unsent() {
    uint32_t n = 0;
    for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) {
        if (p->unsent == nullptr) continue;
        (void)tcp_output(p);  // a still-full ring marks the netif stalled again
        ++n;
    }
    return n;
}

uint32_t stack_tcp_pcbs() {
    return count(tcp_active_pcbs) + count(tcp_tw_pcbs) + count(reinterpret_cast<tcp_pcb*>(tcp_listen_pcbs.listen_pcbs));
}

uint32_t stack_udp_pcbs() {
    uint32_t n = 0;
    for (udp_pcb* p = udp_pcbs; p != nullptr; p = p->next) ++n;
    return n;
}

void stack_abort_orphan_pcbs() {
    // A closed queue clears its pcb's callback argument, so arg == nullptr
    // means nobody will ever look at the pcb again.
    for (tcp_pcb* p = tcp_active_pcbs; p != nullptr;) {
        tcp_pcb* next = p->next;
        if (p->callback_arg == nullptr) tcp_abort(p);
        p = next;
    }
    while (tcp_tw_pcbs != nullptr) tcp_abort(tcp_tw_pcbs);
}

}  // namespace ringlet::net
