// The lwip backend's queue kinds (net/udp_queue.cc, net/tcp_queue.cc).
#pragma once

#include "libos/pdpix/queue.h"
#include "ringlet/result.h"

namespace ringlet::net {

class LwipBackend;

// A UDP queue on a fresh lwIP udp_pcb; OutOfMemory if lwIP has none left.
Result<pdpix::Queue*> make_udp_queue(LwipBackend& backend);
// A TCP queue on a fresh lwIP tcp_pcb; OutOfMemory if lwIP has none left.
Result<pdpix::Queue*> make_tcp_queue(LwipBackend& backend);

}  // namespace ringlet::net
