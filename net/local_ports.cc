#include "net/local_ports.h"

namespace ringlet::net {

Result<void> LocalPorts::init(const FlowSteering& steering, uint16_t core, uint16_t first, uint16_t last) {
    if (core >= steering.cores() || first > last || first == 0) return Error::InvalidArgument;
    m_steering = &steering;
    m_core = core;
    m_first = first;
    m_last = last;
    m_next = first;
    m_seeded = false;
    return {};
}

void LocalPorts::seed(uint32_t random) {
    const uint32_t span = static_cast<uint32_t>(m_last - m_first) + 1;
    m_next = static_cast<uint16_t>(m_first + random % span);
    m_seeded = true;
}

Result<uint16_t> LocalPorts::bind(uint32_t local_ip, uint32_t remote_ip, uint16_t remote_port, TryBind try_bind,
                                  void* ctx) {
    if (m_steering == nullptr || try_bind == nullptr) return Error::InvalidArgument;
    // Everything but the local port, hashed once (see dst_port_hash).
    const uint32_t base = m_steering->hash(FlowTuple{remote_ip, local_ip, remote_port, 0});
    const uint32_t span = static_cast<uint32_t>(m_last - m_first) + 1;
    uint32_t port = m_next;
    // Every port of the range once, from the cursor on, wrapping at the end.
    for (uint32_t i = 0; i < span; ++i, port = port == m_last ? m_first : port + 1) {
        const auto p = static_cast<uint16_t>(port);
        if (m_steering->core_for_hash(base ^ m_steering->dst_port_hash(p)) != m_core) continue;
        auto bound = try_bind(ctx, p);
        if (bound) {
            m_next = p == m_last ? m_first : static_cast<uint16_t>(p + 1);
            return p;
        }
        if (bound.error() != Error::Exists) return bound.error();
    }
    return Error::Exists;  // every port of the range that steers here is taken
}

}  // namespace ringlet::net
