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
// socket buffer); a TCP listener keeps at most kTcpMaxHalfOpen connections
// that are still in the handshake (SYN received) and refuses further SYNs.
inline constexpr size_t kUdpRxBacklogBytes = 256u << 10;
inline constexpr uint32_t kTcpMaxHalfOpen = 32;

// A UDP queue on a fresh lwIP udp_pcb; OutOfMemory if lwIP has none left.
Result<pdpix::Queue*> make_udp_queue(LwipBackend& backend);
// A TCP queue on a fresh lwIP tcp_pcb; OutOfMemory if lwIP has none left.
Result<pdpix::Queue*> make_tcp_queue(LwipBackend& backend);

}  // namespace ringlet::net
