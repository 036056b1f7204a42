// Bringing a device up again after it misbehaved (a used-ring entry that
// breaks the protocol, DEVICE_NEEDS_RESET): the caller has reset it and
// reclaimed every buffer (virtio 1.2 section 2.4: after a reset the device
// touches no ring), and restart() repeats the handshake of section 3.1.1
// over the same ring memory the caller still owns - for a multiqueue NIC
// every pair's queues and the control queue, with MQ/RSS re-programmed;
// for a multiqueue disk every request queue.
// Kept apart from net.cc and blk.cc: nothing here is on a per-packet path.
#include "drivers/virtio/blk.h"
#include "drivers/virtio/net.h"
#include "drivers/virtio/net_control.h"

namespace ringlet::virtio {

namespace {

// Runs `bring_up` and insists the device still offers what it did: the
// layers above were told (checksum offload, read-only, flush) and would
// otherwise act on a promise the device no longer keeps.
template <typename BringUp>
Result<void> restart_device(MmioTransport& transport, uint64_t& features, BringUp&& bring_up) {
    const uint64_t before = features;
    Result<void> up = bring_up();
    if (up.ok() && features != before) up = Error::Unsupported;
    if (!up.ok()) {
        transport.fail();  // section 3.1.1: the driver gave up on it
        features = before;
        return up.error();
    }
    return {};
}

}  // namespace

bool NetDevice::holds_buffers() const {
    return m_rx.outstanding() != 0 || m_tx.outstanding() != 0 || m_has_rx_orphan;
}

void NetDevice::release_pair() {
    // Only an idle secondary pair: attach_pair() sets it up again.
    if (m_pair != 0 && !holds_buffers()) m_started = false;
}

Result<void> NetDevice::restart() {
    if (!m_started || m_pair != 0) return Error::InvalidArgument;
    if (holds_buffers()) return Error::Busy;
    NetMultiQueue* mq = m_config.multiqueue;
    // A reset forgets every queue and the MQ/RSS state (section 2.4): all
    // pairs are set up again before DRIVER_OK (section 3.1.1 step 7) and
    // the same steering is programmed again after it.
    if (mq != nullptr) TRY(mq->release_pairs());
    return restart_device(m_transport, m_features, [&]() -> Result<void> {
        TRY(bring_up(m_config));
        if (mq != nullptr) TRY(mq->check_restored());
        return {};
    });
}

Result<void> BlkDevice::restart() {
    if (!m_started || m_queue_index != 0) return Error::InvalidArgument;
    // A reset forgot every request queue: all of them come back before
    // DRIVER_OK (section 3.1.1 step 7), so none may still hold a request.
    const uint16_t active = m_active_queues;
    for (uint16_t k = 0; k < active; ++k) {
        const BlkDevice& q = k == 0 ? *this : *m_config.more[k];
        if (q.m_vq.outstanding() != 0) return Error::Busy;
    }
    // Each further queue's BlkDevice is attached again by the bring-up.
    for (uint16_t k = 1; k < active; ++k) m_config.more[k]->m_started = false;
    return restart_device(m_transport, m_features, [&]() -> Result<void> {
        TRY(bring_up(m_config));
        // The cores driving queues 1.. count on theirs coming back.
        if (m_active_queues != active) return Error::Unsupported;
        return {};
    });
}

}  // namespace ringlet::virtio
