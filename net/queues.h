// The lwip backend's queue kinds (net/udp_queue.cc, net/tcp_queue.cc).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "libos/pdpix/queue.h"
#include "ringlet/result.h"

namespace ringlet::net {

class LwipBackend;

// Remote-input limits (issue 15 item 5), so a peer cannot pin the DMA heap:
// a UDP queue holds at most this many bytes of DMA buffers (whole buffers,
// not payloads) waiting to be popped, and drops what comes beyond (a full
// socket buffer); a TCP listener keeps at most tcp_half_open_cap(backlog)
// connections that are still in the handshake (SYN received) and refuses
// further SYNs.
inline constexpr size_t kUdpRxBacklogBytes = 256u << 10;
inline constexpr uint32_t kTcpMaxHalfOpen = 32;
// The half-open cap follows the app's listen backlog (as Linux sizes its SYN
// queue), from kTcpMaxHalfOpen up to kTcpMaxHalfOpenBurst: a burst of real
// clients connecting at once (redis-benchmark -c 50) reaches the guest in
// one RX batch before any of them can answer its SYN-ACK, and a SYN dropped
// here is sent again only after the peer's retransmission timeout (QEMU's
// user network: ~6 s), which stalled such benchmarks. What a flood can pin
// stays bounded (kTcpMaxHalfOpenBurst pcbs; MEMP_NUM_TCP_PCB has room for
// them beside 64 connections). tcp_half_open_test.cc tests both.
inline constexpr uint32_t kTcpMaxHalfOpenBurst = 64;
inline constexpr uint32_t tcp_half_open_cap(uint32_t backlog) {
    return backlog < kTcpMaxHalfOpen ? kTcpMaxHalfOpen : backlog > kTcpMaxHalfOpenBurst ? kTcpMaxHalfOpenBurst : backlog;
}

// A UDP queue on a fresh lwIP udp_pcb; OutOfMemory if lwIP has none left.
Result<pdpix::Queue*> make_udp_queue(LwipBackend& backend);
// A TCP queue on a fresh lwIP tcp_pcb; OutOfMemory if lwIP has none left.
Result<pdpix::Queue*> make_tcp_queue(LwipBackend& backend);

}  // namespace ringlet::net
