// Binding the local port of a flow a core opens so that its replies are
// steered back to that core (issue 14; net/local_ports.h chooses the port).
//
// Used by the TCP queue before tcp_connect and by the UDP queue before a
// socket's first datagram, when the pcb has no local port yet. When the
// route's NIC is not shared between cores (NicPort::local_ports() is
// nullptr) they bind nothing and lwIP picks the port as before.
#pragma once

#include <netinet/in.h>

#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "ringlet/result.h"

namespace ringlet::net {

class LwipBackend;

// Binds pcb (unbound, on its local address or any) to a port whose flow
// from `to` is received on this core. Exists when every such port is
// taken; Ok, unbound, when the NIC does not steer between cores.
Result<void> bind_steered(LwipBackend& be, tcp_pcb* pcb, const sockaddr_in& to);
Result<void> bind_steered(LwipBackend& be, udp_pcb* pcb, const sockaddr_in& to);

}  // namespace ringlet::net
