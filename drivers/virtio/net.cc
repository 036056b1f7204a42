#include "drivers/virtio/net.h"

#include "drivers/virtio/net_control.h"

namespace ringlet::virtio {

namespace {

// virtio_net_hdr flags and gso types (section 5.1.6).
constexpr uint8_t kHdrNeedsCsum = 1;
constexpr uint8_t kHdrDataValid = 2;
constexpr uint8_t kGsoNone = 0;

// Config space layout (section 5.1.4).
constexpr uint32_t kConfigMac = 0;
constexpr uint32_t kConfigStatus = 6;
constexpr uint16_t kStatusLinkUp = 1;

// Stores a virtio_net_hdr at dst: three 32-bit stores when dst allows (the
// usual case, a buffer's start), else bytewise.
[[gnu::always_inline]] inline void write_header(uint8_t* dst, const NetHeader& h) {
    using Half [[gnu::may_alias]] = uint32_t;
    if ((reinterpret_cast<uintptr_t>(dst) & 3) == 0) {
        auto* w = reinterpret_cast<Half*>(dst);
        w[0] = static_cast<uint32_t>(h.flags) | static_cast<uint32_t>(h.gso_type) << 8 |
               static_cast<uint32_t>(h.hdr_len) << 16;
        w[1] = static_cast<uint32_t>(h.gso_size) | static_cast<uint32_t>(h.csum_start) << 16;
        w[2] = static_cast<uint32_t>(h.csum_offset) | static_cast<uint32_t>(h.num_buffers) << 16;
        return;
    }
    __builtin_memcpy(dst, &h, sizeof h);
}

}  // namespace

Result<void> NetDevice::init(const NetConfig& config) {
    if (m_started) return Error::Busy;
    m_config = config;
    return open_device(m_transport, config.window, kDeviceNet, [&] {
        m_started = true;
        return bring_up(config);
    });
}

Result<void> NetDevice::bring_up(const NetConfig& config) {
    // Section 5.1.5: MAC and STATUS are read from config space; EVENT_IDX
    // saves notifications; checksum offload only when the caller can use it.
    // MRG_RXBUF and GSO are never asked for, so each RX buffer holds one
    // whole frame; CTRL_VQ, MQ and RSS only for config.multiqueue.
    uint64_t wanted = net_feature::kMac | net_feature::kStatus | feature::kEventIdx;
    if (config.checksum_offload) wanted |= net_feature::kCsum | net_feature::kGuestCsum;
    if (config.multiqueue != nullptr) wanted |= config.multiqueue->wanted_features();
    m_features = TRY(m_transport.negotiate(wanted, 0));

    if (has_mac()) {
        // Six 8-bit fields: read them under one config generation (section 2.5.1).
        TRY(m_transport.read_config_consistent([&] {
            for (uint32_t i = 0; i < 6; ++i) m_mac[i] = m_transport.config8(kConfigMac + i);
        }));
    }

    // Section 5.1.5: receiveq1 is queue 0, transmitq1 is queue 1.
    TRY(setup_pair(config.rx_ring, config.tx_ring, config.queue_size));
    // The TX queue interrupts are not needed: completions are reaped when
    // transmitting or polling. RX keeps the spec's default (enabled) until
    // the caller decides to poll.
    m_tx.disable_interrupts();
    // More pairs and the control queue: set up before DRIVER_OK (section
    // 3.1.1 step 7), switched on by control commands after it.
    if (config.multiqueue != nullptr) TRY(config.multiqueue->setup_queues(*this, config.queue_size));
    TRY(m_transport.driver_ok());
    if (config.multiqueue != nullptr) config.multiqueue->activate();
    return {};
}

Result<void> NetDevice::attach_pair(NetDevice& primary, uint16_t pair, DmaSpan rx_ring, DmaSpan tx_ring,
                                    uint16_t queue_size) {
    if (m_started || this == &primary) return Error::Busy;
    m_transport = primary.m_transport;
    m_features = primary.m_features;
    __builtin_memcpy(m_mac, primary.m_mac, sizeof m_mac);
    m_pair = pair;
    TRY(setup_pair(rx_ring, tx_ring, queue_size));
    m_tx.disable_interrupts();
    m_started = true;
    return {};
}

Result<void> NetDevice::setup_pair(DmaSpan rx_ring, DmaSpan tx_ring, uint16_t queue_size) {
    // Section 5.1.2: receiveqN is queue 2(N-1), transmitqN is 2(N-1)+1.
    // No TRY: its temporary would copy each ~5 KB queue once more.
    {
        auto q = Virtqueue::setup(m_transport, static_cast<uint16_t>(2 * m_pair + kRxQueue), rx_ring, queue_size);
        if (!q.ok()) return q.error();
        m_rx = *q;
    }
    {
        auto q = Virtqueue::setup(m_transport, static_cast<uint16_t>(2 * m_pair + kTxQueue), tx_ring, queue_size);
        if (!q.ok()) return q.error();
        m_tx = *q;
    }
    return {};
}

bool NetDevice::link_up() const {
    if ((m_features & net_feature::kStatus) == 0) return true;
    return (m_transport.config16(kConfigStatus) & kStatusLinkUp) != 0;
}

Result<void> NetDevice::kick_rx() {
    TRY(m_rx.kick());
    return {};
}

// The offload fields of a received frame's header (GUEST_CSUM only); false
// if its checksum field lies outside the frame. Out of line, like
// drop_rx(): the common frame needs neither, and poll_rx() stays small.
[[gnu::noinline]] bool NetDevice::read_rx_offload(const uint8_t* va, RxFrame* f) {
    // Section 2.7.8.1: trust only the first len bytes; the header is within them.
    NetHeader h;
    __builtin_memcpy(&h, va, sizeof h);
    f->csum_valid = (h.flags & kHdrDataValid) != 0;
    f->csum_partial = (h.flags & kHdrNeedsCsum) != 0;
    f->csum_start = h.csum_start;
    f->csum_offset = h.csum_offset;
    // The checksum field must lie inside the frame.
    return !f->csum_partial || static_cast<uint32_t>(h.csum_start) + h.csum_offset + 2u <= f->len;
}

[[gnu::noinline]] Result<void> NetDevice::drop_rx(const RxSlot& slot) {
    // A runt or a bogus header: the frame is useless, the buffer is not.
    // Give it straight back to the device (a slot was just freed, so only a
    // broken ring can refuse it).
    ++m_rx_dropped;
    auto again = add_rx(slot);
    if (!again.ok()) {
        // Only a broken ring refuses it: keep the buffer for reclaim_rx().
        m_rx_orphan = slot;
        m_has_rx_orphan = true;
        return again.error();
    }
    TRY(m_rx.kick());
    return {};
}

[[gnu::noinline]] Result<RxFrame> NetDevice::poll_rx_after_drop(RxSlot slot) {
    for (;;) {
        TRY(drop_rx(slot));
        Completion c = TRY(m_rx.pop());
        slot = m_rx_slots[c.head];
        RxFrame f;
        if (rx_frame(c, slot, &f)) return f;
    }
}

[[gnu::noinline]] RxDone NetDevice::receive_slow(uint64_t cookie, uint32_t len, uint16_t head) {
    Completion c;
    c.cookie = cookie;
    c.len = len;
    c.head = head;
    const RxSlot slot = m_rx_slots[head];
    RxFrame f;
    if (!rx_frame(c, slot, &f)) {
        auto after = poll_rx_after_drop(slot);
        if (!after) return RxDone{0, 0, static_cast<uint16_t>(after.error()), false};
        f = *after;
    }
    return RxDone{f.cookie, f.len, 0, f.csum_valid || f.csum_partial};
}

Result<void> NetDevice::queue_tx(const TxSegment* segs, uint32_t n, uint64_t cookie, const TxChecksum* csum) {
    if (segs == nullptr || n == 0 || n > kMaxTxSegments) return Error::InvalidArgument;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (segs[i].va == nullptr || segs[i].len == 0) return Error::InvalidArgument;
        total += segs[i].len;
    }
    if (total < kMinFrame || total > kMaxFrame) return Error::InvalidArgument;
    if (segs[0].pa < kHeaderBytes) return Error::InvalidArgument;

    // Section 5.1.6.2: the header says what the device must do to the frame.
    NetHeader h{};
    h.gso_type = kGsoNone;
    if (csum != nullptr) {
        if ((m_features & net_feature::kCsum) == 0) return Error::Unsupported;
        if (static_cast<uint64_t>(csum->start) + csum->offset + 2u > total) return Error::InvalidArgument;
        h.flags = kHdrNeedsCsum;
        h.csum_start = csum->start;
        h.csum_offset = csum->offset;
    }

    // Header in the headroom, so header + first segment are one readable
    // descriptor (section 2.7.4: framing is free), the rest follow.
    const Segment first{segs[0].pa - kHeaderBytes, segs[0].len + kHeaderBytes};
    // Check for room before writing into the caller's headroom.
    if (m_tx.broken()) return Error::BadFormat;
    if (m_tx.free_descriptors() < n) return Error::Full;
    write_header(segs[0].va - kHeaderBytes, h);
    if (n == 1) {  // a frame in one buffer: the fast path's case
        TRY(m_tx.add_one(first, false, cookie));
        return {};
    }
    if (n == 2) {  // headers + a payload by reference: a TCP segment's case
        TRY(m_tx.add_two(first, Segment{segs[1].pa, segs[1].len}, cookie));
        return {};
    }
    Segment chain[kMaxTxSegments];
    chain[0] = first;
    for (uint32_t i = 1; i < n; ++i) chain[i] = Segment{segs[i].pa, segs[i].len};
    TRY(m_tx.add(chain, n, nullptr, 0, cookie));
    return {};
}

Result<void> NetDevice::kick_tx() {
    TRY(m_tx.kick());
    return {};
}

Result<void> NetDevice::transmit(const TxSegment* segs, uint32_t n, uint64_t cookie, const TxChecksum* csum) {
    TRY(queue_tx(segs, n, cookie, csum));
    return kick_tx();
}

void NetDevice::disable_interrupts() {
    m_rx.disable_interrupts();
    m_tx.disable_interrupts();
}

bool NetDevice::enable_interrupts(bool tx_completions) {
    // RX brings new work; TX completions only return buffers, which are
    // otherwise reaped on the next transmit or poll. Report TX work already
    // there either way.
    bool pending = m_rx.enable_interrupts();
    if (tx_completions) pending = m_tx.enable_interrupts() || pending;
    pending = pending || m_tx.has_used();
    if (!pending && m_tx.outstanding() > 0) renotify_tx();
    return pending;
}

void NetDevice::renotify_tx() {
    // Section 2.7.10 makes notifications a hint the device may suppress, and
    // an extra one is harmless. QEMU 7.2's virtio-net with EVENT_IDX has
    // been seen holding 128 published TX chains while asking (avail_event)
    // for a notification at the very index the driver had crossed: a
    // notification lost between its ring walk and its re-arm. Sent again
    // before the core sleeps or when the ring is full, so a lost one costs
    // one sleep, not the connection.
    const Doorbell d = m_transport.doorbell(static_cast<uint16_t>(2 * m_pair + kTxQueue));
    d.window.write32(d.offset, d.value);
    ++m_tx_renotified;
}

Result<uint64_t> NetDevice::reclaim_rx() {
    if (m_has_rx_orphan) {
        m_has_rx_orphan = false;
        return m_rx_orphan.cookie;
    }
    Completion c = TRY(m_rx.reclaim());
    m_rx_slots[c.head] = RxSlot{};
    return c.cookie;
}

Result<uint64_t> NetDevice::reclaim_tx() {
    Completion c = TRY(m_tx.reclaim());
    return c.cookie;
}

}  // namespace ringlet::virtio
