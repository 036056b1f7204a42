// The lwIP stack of this process: one instance (lwIP keeps global state),
// driven by one core's executor through the lwip backend.
#pragma once

#include <stdint.h>

#include "net/lwip/sys_glue.h"
#include "ringlet/result.h"

namespace ringlet::net {

// Counters for frames and segments the stack refused (malformed, for another
// host, no memory), read from lwIP's statistics plus the netifs' own.
struct DropStats {
    uint32_t link_drop;   // Ethernet: unknown type, too short, not for us
    uint32_t arp_drop;    // ARP: malformed or not for us
    uint32_t ip_drop;     // IPv4: any reason
    uint32_t ip_chkerr;   // IPv4 header checksum wrong
    uint32_t ip_lenerr;   // IPv4 length fields inconsistent
    uint32_t icmp_drop;
    uint32_t icmp_chkerr;
    uint32_t udp_drop;    // includes checksum and length errors
    uint32_t tcp_drop;
    uint32_t udp_chkerr;
    uint32_t tcp_chkerr;
};

// Initialises lwIP once per process (later calls only replace the clock and
// mix the seed), with `clock` as sys_now()'s source. Always Ok today; a
// Result so a failing init can be reported later.
Result<void> stack_init(ClockFn clock, void* clock_ctx, uint64_t seed);

// True once stack_init ran.
bool stack_ready();

// Runs lwIP's due timers; returns milliseconds until the next one is due
// (~0u: none queued).
uint32_t stack_check_timeouts();

// Milliseconds until lwIP's next timer without running any (~0u: none).
uint32_t stack_next_timeout_ms();

// A snapshot of the drop counters.
DropStats stack_drop_stats();

// Calls tcp_output for every TCP pcb with segments queued but not sent
// (the NIC's ring was full for them: Netif::take_tx_stalled); returns how
// many it tried.
uint32_t stack_output_unsent();

// TCP pcbs lwIP still holds (active + TIME_WAIT + listening), for leak checks.
uint32_t stack_tcp_pcbs();
// UDP pcbs lwIP still holds.
uint32_t stack_udp_pcbs();

// Aborts every TCP pcb nobody owns any more (closing, TIME_WAIT): the pcbs a
// test or a backend teardown would otherwise leave to lwIP's timers.
// Precondition: no queue refers to a pcb (all queues closed).
void stack_abort_orphan_pcbs();

}  // namespace ringlet::net
