#include "net/steered_bind.h"

#include <arpa/inet.h>

#include "net/local_ports.h"
#include "net/lwip_backend.h"
#include "net/lwip_error.h"

namespace ringlet::net {

namespace {

// The chooser of the interface the flow leaves by, and the local address
// its frames carry; ports == nullptr when that NIC is not shared.
struct Route {
    LocalPorts* ports = nullptr;
    uint32_t local = 0;  // network order
};

Route route_for(LwipBackend& be, const ip_addr_t& local_ip, const sockaddr_in& to) {
    const uint32_t src = ip4_addr_get_u32(ip_2_ip4(&local_ip));
    uint32_t hop = 0;
    Netif* n = be.route(to.sin_addr.s_addr, src, &hop);
    if (n == nullptr || n->local_ports() == nullptr) return {};
    LocalPorts* ports = n->local_ports();
    if (!ports->seeded()) ports->seed(LWIP_RAND());  // this core's stack's per-boot random numbers
    return Route{ports, src != 0 ? src : n->address()};
}

template <typename Pcb>
Result<void> bind_on(LwipBackend& be, Pcb* pcb, const sockaddr_in& to, LocalPorts::TryBind try_bind) {
    const Route r = route_for(be, pcb->local_ip, to);
    if (r.ports == nullptr) return {};
    TRY(r.ports->bind(ntohl(r.local), ntohl(to.sin_addr.s_addr), ntohs(to.sin_port), try_bind, pcb));
    return {};
}

}  // namespace

Result<void> bind_steered(LwipBackend& be, tcp_pcb* pcb, const sockaddr_in& to) {
    return bind_on(be, pcb, to, [](void* ctx, uint16_t port) -> Result<void> {
        auto* p = static_cast<tcp_pcb*>(ctx);
        const ip_addr_t ip = p->local_ip;
        return lwip_result(tcp_bind(p, &ip, port));  // ERR_USE (Exists): taken on this core
    });
}

Result<void> bind_steered(LwipBackend& be, udp_pcb* pcb, const sockaddr_in& to) {
    return bind_on(be, pcb, to, [](void* ctx, uint16_t port) -> Result<void> {
        auto* p = static_cast<udp_pcb*>(ctx);
        const ip_addr_t ip = p->local_ip;
        return lwip_result(udp_bind(p, &ip, port));
    });
}

}  // namespace ringlet::net
