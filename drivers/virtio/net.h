// NetDevice: a virtio-net driver (virtio 1.2 section 5.1) over one
// MmioTransport, with receive queue 0 and transmit queue 1.
//
// Zero-copy: the caller owns its buffers (e.g. from the libOS DMA heap).
// post_rx() and transmit() hand a buffer to the device; poll_rx() and
// poll_tx() hand it back, identified by the caller's cookie. Every RX buffer
// holds one whole frame plus the 12-byte virtio_net_hdr (MRG_RXBUF is never
// negotiated); every TX frame needs 12 bytes of headroom before its first
// byte, where the driver writes the header, so header and frame share one
// descriptor.
//
// Negotiated when offered: MAC, STATUS, EVENT_IDX, and (if asked) CSUM and
// GUEST_CSUM. One queue pair unless NetConfig::multiqueue asks for more
// (net_control.h: MQ, CTRL_VQ, RSS; one NetDevice per pair).
#pragma once

#include <stdint.h>

#include "drivers/virtio/mmio_transport.h"
#include "drivers/virtio/virtqueue.h"
#include "ringlet/result.h"

namespace ringlet::virtio {

// Feature bits (section 5.1.3).
namespace net_feature {
inline constexpr uint64_t kCsum = 1ull << 0;
inline constexpr uint64_t kGuestCsum = 1ull << 1;
inline constexpr uint64_t kMac = 1ull << 5;
inline constexpr uint64_t kMrgRxbuf = 1ull << 15;
inline constexpr uint64_t kStatus = 1ull << 16;
inline constexpr uint64_t kCtrlVq = 1ull << 17;
inline constexpr uint64_t kMq = 1ull << 22;
inline constexpr uint64_t kHashReport = 1ull << 57;
inline constexpr uint64_t kRss = 1ull << 60;
}  // namespace net_feature

class NetMultiQueue;

// struct virtio_net_hdr with VIRTIO_F_VERSION_1 (section 5.1.6): num_buffers
// is always present, so the header is 12 bytes.
struct NetHeader {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(NetHeader) == 12, "virtio_net_hdr layout");

struct NetConfig {
    MmioWindow window;
    DmaSpan rx_ring;               // >= Virtqueue::ring_bytes(queue_size), 16-byte aligned
    DmaSpan tx_ring;               // likewise
    uint16_t queue_size = Virtqueue::kMaxSize;  // upper bound; the device may offer fewer
    bool checksum_offload = true;  // negotiate CSUM / GUEST_CSUM when offered
    NetMultiQueue* multiqueue = nullptr;  // more queue pairs + RSS (net_control.h); nullptr = one pair
};

// A receive buffer: [va, va+len) at physical pa, returned with `cookie`.
struct RxBuffer {
    uint8_t* va = nullptr;
    uint64_t pa = 0;
    uint32_t len = 0;
    uint64_t cookie = 0;
};

// A received frame, in the caller's buffer.
struct RxFrame {
    uint64_t cookie = 0;     // the RxBuffer's cookie: the buffer is the caller's again
    uint8_t* buffer = nullptr;  // the RxBuffer's va (the header sits here)
    uint8_t* data = nullptr;    // the Ethernet frame, buffer + kHeaderBytes
    uint32_t len = 0;           // frame bytes, header excluded
    bool csum_valid = false;    // VIRTIO_NET_HDR_F_DATA_VALID: checksums verified by the device
    bool csum_partial = false;  // VIRTIO_NET_HDR_F_NEEDS_CSUM: checksum at csum_start+csum_offset not filled in
    uint16_t csum_start = 0;
    uint16_t csum_offset = 0;
};

// A received frame in scalars (NetDevice::receive()): no RxFrame through
// memory on the per-frame path. The frame starts kHeaderBytes into the
// buffer posted with `cookie`.
// 16 bytes, so it comes back in two registers even from the out-of-line
// slow path.
struct RxDone {
    uint64_t cookie;   // the RxBuffer's cookie: the buffer is the caller's again
    uint32_t len;      // frame bytes, header excluded
    uint16_t status;   // an Error: Ok, or as next_rx()
    bool csum_ok;      // RxFrame's csum_valid || csum_partial
    Error error() const { return static_cast<Error>(status); }
};
static_assert(sizeof(RxDone) == 16, "returned in registers");

// One piece of a frame to transmit.
// No default member values: arrays of these on the TX path would be
// zeroed (a memset call) on every frame; they are always filled in whole.
struct TxSegment {
    uint8_t* va;
    uint64_t pa;
    uint32_t len;
};

// Ask the device to compute the checksum over [start, end of frame) and
// store it at start + offset (section 5.1.6.2, needs CSUM).
struct TxChecksum {
    uint16_t start = 0;
    uint16_t offset = 0;
};

class NetDevice {
public:
    static constexpr uint32_t kHeaderBytes = sizeof(NetHeader);
    static constexpr uint32_t kMaxFrame = 1514;  // no GSO, no MTU feature: plain Ethernet
    static constexpr uint32_t kMinFrame = 14;    // an Ethernet header
    // Section 5.1.6.3.1: without MRG_RXBUF or GSO, RX buffers of at least 1526 bytes.
    static constexpr uint32_t kMinRxBuffer = kHeaderBytes + kMaxFrame;
    static constexpr uint32_t kMaxTxSegments = 16;
    static constexpr uint16_t kRxQueue = 0;
    static constexpr uint16_t kTxQueue = 1;

    // An inert device; init() brings it up. Two-phase (as Zircon does)
    // rather than a create() returning Result<NetDevice>: the object is
    // ~18 KB, and moving it through Results would cost several times that
    // on a 64 KiB U-mode stack. Keep it in static or heap storage.
    NetDevice() = default;
    NetDevice(const NetDevice&) = delete;
    NetDevice& operator=(const NetDevice&) = delete;

    // Probes, negotiates and brings up the device behind config.window
    // (sections 3.1.1 and 5.1.5) with both queues, ending at DRIVER_OK.
    // WrongType if it is not a network device; Busy if called twice; the
    // transport's errors otherwise (BadFormat, Unsupported, NotFound, ...),
    // with FAILED set on the device once the handshake had started. RX
    // starts empty: post_rx() buffers, then kick_rx().
    Result<void> init(const NetConfig& config);

    uint64_t features() const { return m_features; }
    // True if the device gave a MAC (VIRTIO_NET_F_MAC); else mac() is zero
    // and the caller picks one.
    bool has_mac() const { return (m_features & net_feature::kMac) != 0; }
    const uint8_t* mac() const { return m_mac; }
    uint16_t rx_queue_size() const { return m_rx.size(); }
    uint16_t tx_queue_size() const { return m_tx.size(); }
    // TX chains given to the device and not yet taken back by poll_tx().
    uint16_t tx_outstanding() const { return m_tx.outstanding(); }
    MmioTransport& transport() { return m_transport; }
    // The queue pair this NetDevice drives: 0 for the one init() brought up.
    uint16_t queue_pair() const { return m_pair; }

    // For NetMultiQueue (net_control.h), during primary.init(), before
    // DRIVER_OK: makes this inert NetDevice the driver of queue pair `pair`
    // (queues 2*pair and 2*pair+1) of the device `primary` negotiated. Busy
    // if this one is already in use; Virtqueue::setup()'s errors.
    Result<void> attach_pair(NetDevice& primary, uint16_t pair, DmaSpan rx_ring, DmaSpan tx_ring,
                             uint16_t queue_size);

    // Link state from the config status field (section 5.1.4); always true
    // when the device does not offer VIRTIO_NET_F_STATUS.
    bool link_up() const;

    // Gives a receive buffer to the device (visible after kick_rx()).
    // InvalidArgument if len < kMinRxBuffer; Full if the RX ring is full.
    Result<void> post_rx(const RxBuffer& buffer);
    // Publishes posted RX buffers, notifying the device if it wants it.
    Result<void> kick_rx();

    // True if the device has returned RX buffers poll_rx() has not taken:
    // one load of the used index, so another core may ask (the core that
    // owns the interrupt line looks on behalf of a sleeping pair's core;
    // a stale answer only delays or adds one wake-up).
    bool rx_pending() const { return m_rx.has_used(); }

    // The next received frame: Empty if none; BadFormat if the device broke
    // the RX ring (reset the device). Frames too short to hold a header and
    // an Ethernet header, or with a checksum offset outside the frame, are
    // dropped and their buffer re-posted (counted in rx_dropped()).
    Result<RxFrame> poll_rx();
    // poll_rx() into *f (written only on Ok): the per-frame loop's form,
    // with no Result<RxFrame> to copy the frame through.
    Error next_rx(RxFrame* f);
    // next_rx() for a caller that needs only the cookie, the length and the
    // checksum verdict (VirtioNic): the same checks and drops.
    RxDone receive();

    // Queues one frame made of `n` segments (1..kMaxTxSegments, 14..1514
    // bytes in all); the driver writes the virtio_net_hdr into the 12 bytes
    // before segs[0].va (segs[0].pa - 12 on the device side), which the
    // caller must own. `csum` requests checksum offload (Unsupported unless
    // CSUM was negotiated). Full if the TX ring is full. The buffers belong
    // to the device until poll_tx() returns `cookie`.
    Result<void> queue_tx(const TxSegment* segs, uint32_t n, uint64_t cookie, const TxChecksum* csum = nullptr);
    // transmit() of a frame in one segment without checksum offload (the
    // UDP fast path's frames): the same checks and errors (the header may be
    // written even when the frame is refused: the headroom is the caller's
    // to give), no segment array, queued and published at once. Inline:
    // VirtioNic::transmit_frame() is its one caller per frame.
    Result<void> transmit_one(const TxSegment& seg, uint64_t cookie);
    // Publishes queued TX frames, notifying the device if it wants it.
    Result<void> kick_tx();
    // queue_tx() then kick_tx().
    Result<void> transmit(const TxSegment* segs, uint32_t n, uint64_t cookie, const TxChecksum* csum = nullptr);

    // The cookie of the next frame the device finished sending: Empty if
    // none, BadFormat if the device broke the TX ring. Inline: the reap
    // loop calls it once per sent frame.
    [[gnu::always_inline]] Result<uint64_t> poll_tx() {
        Completion c;
        if (const Error e = m_tx.next(&c); e != Error::Ok) return e;
        return c.cookie;
    }
    // poll_tx() into *cookie (written only on Ok), for the reap loop.
    [[gnu::always_inline]] Error next_tx(uint64_t* cookie) {
        Completion c;
        const Error e = m_tx.next(&c);
        if (e == Error::Ok) *cookie = c.cookie;
        return e;
    }

    // Reads and acknowledges the interrupt cause (kInterruptUsedBuffer,
    // kInterruptConfigChange: re-read link_up()).
    uint32_t ack_interrupt() { return m_transport.ack_interrupt(); }
    // While polling: no used-buffer interrupts from either queue.
    void disable_interrupts();
    // Before sleeping: re-arms RX interrupts (and TX ones if the caller
    // waits for buffers to come back); true means work arrived meanwhile
    // and the caller must poll instead of sleeping.
    bool enable_interrupts(bool tx_completions = false);
    // Notifies the TX queue whatever the suppression hint says, so chains a
    // device sits on get sent (enable_interrupts() does this before a sleep
    // while TX chains are outstanding; a full ring is the other time).
    void renotify_tx();
    uint64_t tx_renotified() const { return m_tx_renotified; }

    // Resets the device; afterwards reclaim_rx()/reclaim_tx() hand back every
    // buffer it still held (Empty when done). The NetDevice is then dead
    // until restart().
    Result<void> reset() { return m_transport.reset(); }
    Result<uint64_t> reclaim_rx();
    Result<uint64_t> reclaim_tx();
    // Recovery from a device that broke a ring or asked for a reset
    // (recovery.cc): once reset() and the reclaims have taken every buffer
    // back, brings the device up again as init() did, over the same rings;
    // RX starts empty again. Pair 0 only (InvalidArgument on another);
    // with multiqueue it sets every pair's queues up again and re-programs
    // MQ/RSS through the control queue, so every pair must have given its
    // buffers back first. Busy while a buffer of any pair is still held;
    // Unsupported if the device now offers other features than before (the
    // stack was told what it offloads) or comes back with other queue pairs
    // or without the RSS it had (the cores were told the device steers);
    // the transport's errors otherwise, with FAILED set on the device.
    Result<void> restart();
    // For NetMultiQueue during pair 0's restart() (recovery.cc): whether
    // this pair's queues still hold a buffer, and making an idle secondary
    // pair inert so the restart can attach it anew.
    bool holds_buffers() const;
    void release_pair();

    uint64_t rx_dropped() const { return m_rx_dropped; }

private:
    struct RxSlot {
        uint8_t* va;
        uint64_t pa;
        uint32_t len;
        uint64_t cookie;
    };

    Result<void> bring_up(const NetConfig& config);
    Result<void> setup_pair(DmaSpan rx_ring, DmaSpan tx_ring, uint16_t queue_size);
    Result<void> add_rx(const RxSlot& slot);
    static bool read_rx_offload(const uint8_t* va, RxFrame* f);
    Result<void> drop_rx(const RxSlot& slot);
    // The frame completion c of slot describes, if it is usable (long
    // enough, a sane offload header).
    bool rx_frame(const Completion& c, const RxSlot& slot, RxFrame* f) const;
    // poll_rx() after a useless frame: gives slot back and polls on. Out of
    // line, so the common poll_rx() saves no registers.
    Result<RxFrame> poll_rx_after_drop(RxSlot slot);
    // receive() of a frame that is not plain (short, or with GUEST_CSUM).
    RxDone receive_slow(uint64_t cookie, uint32_t len, uint16_t head);

    MmioTransport m_transport;
    Virtqueue m_rx;
    Virtqueue m_tx;
    NetConfig m_config;  // as init() was given it, for restart()
    uint64_t m_features = 0;
    uint16_t m_pair = 0;
    bool m_started = false;
    uint8_t m_mac[6] = {};
    uint64_t m_rx_dropped = 0;
    uint64_t m_tx_renotified = 0;
    RxSlot m_rx_orphan = {};  // a dropped frame's buffer a broken ring would not take back
    bool m_has_rx_orphan = false;
    RxSlot m_rx_slots[Virtqueue::kMaxSize] = {};  // indexed by the chain's head
};

// Inline: VirtioNic refills the RX ring with these, one call per buffer
// (always: post_rx() is a few checks in front of it).
[[gnu::always_inline]] inline Result<void> NetDevice::add_rx(const RxSlot& slot) {
    // Section 5.1.6.3: a receive buffer is device-writable only.
    uint16_t head = TRY(m_rx.add_one(Segment{slot.pa, slot.len}, true, slot.cookie));
    m_rx_slots[head] = slot;
    return {};
}

inline Result<void> NetDevice::post_rx(const RxBuffer& b) {
    if (b.va == nullptr || b.len < kMinRxBuffer) return Error::InvalidArgument;
    return add_rx(RxSlot{b.va, b.pa, b.len, b.cookie});
}

// Inline, with rx_frame(): VirtioNic's poll loop takes a frame per call,
// and a call returning the frame through memory costs more than the pop.
[[gnu::always_inline]] inline bool NetDevice::rx_frame(const Completion& c, const RxSlot& slot, RxFrame* f) const {
    // pop() checked c.head < size and c.len <= the buffer's length. The
    // slot keeps its stale copy until add_rx() reuses it: only a chain the
    // device returns (in flight, checked by pop()) is read.
    f->cookie = slot.cookie;
    f->buffer = slot.va;
    f->data = slot.va + kHeaderBytes;
    if (c.len < kHeaderBytes + kMinFrame) return false;
    f->len = c.len - kHeaderBytes;
    // Section 5.1.6.4: the flags mean something only with GUEST_CSUM.
    if ((m_features & net_feature::kGuestCsum) != 0) return read_rx_offload(slot.va, f);
    f->csum_valid = false;
    f->csum_partial = false;
    return true;
}

[[gnu::always_inline]] inline Error NetDevice::next_rx(RxFrame* f) {
    auto c = m_rx.pop();
    if (!c) return c.error();
    const RxSlot& slot = m_rx_slots[c->head];
    if (rx_frame(*c, slot, f)) return Error::Ok;
    auto after = poll_rx_after_drop(slot);
    if (!after) return after.error();
    *f = *after;
    return Error::Ok;
}

[[gnu::always_inline]] inline RxDone NetDevice::receive() {
    Completion c;
    if (const Error e = m_rx.next(&c); e != Error::Ok) return RxDone{0, 0, static_cast<uint16_t>(e), false};
    // rx_frame()'s checks, for the plain frame: long enough, and no offload
    // header to read without GUEST_CSUM (pop() checked len <= the buffer).
    if (c.len >= kHeaderBytes + kMinFrame && (m_features & net_feature::kGuestCsum) == 0) [[likely]] {
        return RxDone{c.cookie, c.len - kHeaderBytes, 0, false};
    }
    return receive_slow(c.cookie, c.len, c.head);
}

// A virtio_net_hdr of zeros (nothing for the device to do, section
// 5.1.6.2) at dst: three word stores where dst allows (a buffer's start),
// else bytewise; no header built on the stack first.
[[gnu::always_inline]] inline void write_plain_net_header(uint8_t* dst) {
    using Word [[gnu::may_alias]] = uint32_t;
    if ((reinterpret_cast<uintptr_t>(dst) & 3) == 0) [[likely]] {
        auto* w = reinterpret_cast<Word*>(dst);
        w[0] = 0;
        w[1] = 0;
        w[2] = 0;
        return;
    }
    __builtin_memset(dst, 0, sizeof(NetHeader));
}

[[gnu::always_inline]] inline Result<void> NetDevice::transmit_one(const TxSegment& seg, uint64_t cookie) {
    if (seg.va == nullptr || seg.len < kMinFrame || seg.len > kMaxFrame || seg.pa < kHeaderBytes) {
        return Error::InvalidArgument;
    }
    // Before publishing (add_one_and_kick() fences, then moves the idx).
    write_plain_net_header(seg.va - kHeaderBytes);
    // Broken ring, no free descriptor: add_one_and_kick() says so.
    TRY(m_tx.add_one_and_kick(Segment{seg.pa - kHeaderBytes, seg.len + kHeaderBytes}, cookie));
    return {};
}

[[gnu::always_inline]] inline Result<RxFrame> NetDevice::poll_rx() {
    RxFrame f;
    const Error e = next_rx(&f);
    if (e != Error::Ok) return e;
    return f;
}

}  // namespace ringlet::virtio
