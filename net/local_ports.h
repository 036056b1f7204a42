// LocalPorts: the local (ephemeral) port of a flow a core opens itself - a
// TCP connect, or a UDP socket's first datagram to a peer - chosen so that
// the flow's replies land on that core (issue 14).
//
// A received frame goes to the core its flow hash names (net/flow_steering.h:
// the device's RSS or core 0's software steering, the same function). For a
// server that is the core that accepted the flow; for a client the hash of
// remote -> local:port depends on the one thing the client picks, its local
// port. So, as IX and Demikernel do, a core picks only ports for which
// core_for_rx_flow(local, port, remote, remote_port) is itself: with n
// cores about one port in n qualifies. Toeplitz is linear over XOR, so the
// addresses and the remote port are hashed once and each candidate port
// costs two table loads.
//
// Each core has its own LocalPorts (its own cursor) and its own stack, so
// "free" is asked of that core's stack (TryBind). Two cores never pick the
// same 4-tuple: a 4-tuple hashes to exactly one core.
//
// Freestanding, no heap; the steering object must outlive this one.
#pragma once

#include <stdint.h>

#include "net/flow_steering.h"
#include "ringlet/result.h"

namespace ringlet::net {

class LocalPorts {
public:
    // The ephemeral range: IANA's dynamic ports, and lwIP's own
    // (TCP_LOCAL_PORT_RANGE_START/END), so a chosen port is one the stack
    // could have picked.
    static constexpr uint16_t kFirst = 0xc000;
    static constexpr uint16_t kLast = 0xffff;

    // Chooses for `core` under `steering`, among [first, last].
    // InvalidArgument if core >= steering.cores() or first > last.
    Result<void> init(const FlowSteering& steering, uint16_t core, uint16_t first = kFirst, uint16_t last = kLast);
    uint16_t core() const { return m_core; }
    // Where the search starts (the cursor moves past each chosen port).
    // Seed it per boot (the stack's random numbers) so a restarted app does
    // not reuse the ports its previous run left in TIME_WAIT at the peer.
    void seed(uint32_t random);
    bool seeded() const { return m_seeded; }

    // Asks the core's stack to bind `port`: Ok if it now holds it, Exists
    // if it is taken (the search goes on); any other error ends the search.
    using TryBind = Result<void> (*)(void* ctx, uint16_t port);

    // Binds a port whose flow from remote_ip:remote_port to local_ip:port
    // (addresses and ports in host byte order) is received on this core:
    // the first one, from the cursor on, that try_bind takes. Exists when
    // every such port of the range is taken (the range is exhausted for
    // this peer); try_bind's other errors as they come.
    Result<uint16_t> bind(uint32_t local_ip, uint32_t remote_ip, uint16_t remote_port, TryBind try_bind, void* ctx);

    // Whether the flow's replies come to this core (for tests and checks).
    bool receives(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip, uint16_t remote_port) const {
        return m_steering->core_for_rx_flow(local_ip, local_port, remote_ip, remote_port) == m_core;
    }

private:
    const FlowSteering* m_steering = nullptr;
    uint16_t m_core = 0;
    uint16_t m_first = kFirst;
    uint16_t m_last = kLast;
    uint16_t m_next = kFirst;
    bool m_seeded = false;
};

}  // namespace ringlet::net
