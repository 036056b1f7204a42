// VirtioNic: the stack's NicPort over the virtio-net driver, inside the app.
// RX buffers and TX frames are DMA-heap buffers; the heap is one physically
// contiguous region, so a buffer's device address is region PA + offset.
// Buffer ownership: a posted RX buffer belongs to the device until it comes
// back in poll(), then passes (with its reference) to the stack; a TX
// segment's reference is held until the device reports the frame sent.
//
// A misbehaving device (a used-ring entry that breaks the protocol, or
// DEVICE_NEEDS_RESET) is bad input, not the end (virtio_nic_recovery.cc):
// the next poll() resets it, takes back every buffer it held, brings it up
// again and refills RX, up to kMaxResets times, a console line each time.
// Frames in flight are lost as on a wire (TCP retransmits). Buffers already
// handed to the stack or the app are theirs and untouched: zero-copy RX
// data an app holds stays valid across a reset. With a multiqueue device
// (one VirtioNic per pair and core) the cores reset it together, by
// messages: join_recovery(), net/virtio_nic_recovery.h.
#pragma once

#include <stdint.h>

#include "drivers/virtio/net.h"
#include "net/netif.h"
#include "net/virtio_nic_recovery.h"

namespace ringlet::net {

class VirtioNic final : public NicPort {
public:
    static constexpr uint32_t kMaxInFlight = 256;
    // RX buffers given back to the device in one go (fewer kicks); the
    // ring is refilled at once whenever it is less than half full. Above
    // two TX reap batches: in steady echo the reap puts each sent frame's
    // buffer back on the ring (reap_tx) before a refill would allocate.
    static constexpr uint32_t kRxRefillBatch = 32;
    // TX completions are taken back in batches: poll() reaps only once this
    // many frames are in flight (and a full ring or a sleep reaps at once),
    // so the per-frame cost is the used-ring entry, not a reap per poll.
    static constexpr uint32_t kTxReapBatch = 16;
    // Resets a misbehaving device gets before the NIC is given up for good
    // (then every transmit fails with IoError and poll() finds nothing).
    static constexpr uint32_t kMaxResets = 8;

    // Where frames were refused on our side of the device.
    struct Stats {
        uint64_t tx_ring_full = 0;      // transmit dropped: ring full even after reaping
        uint64_t rx_refill_failed = 0;  // no DMA buffer to give back to the RX ring
        uint64_t resets = 0;            // device resets after it misbehaved
        uint64_t rx_recycled = 0;       // sent frames' buffers put straight back on the RX ring
    };

    // `dev` is brought up (init) by the caller; the heap region [va, va+size)
    // sits at physical address `pa`.
    VirtioNic(virtio::NetDevice& dev, const uint8_t* region_va, uint64_t region_pa, uint64_t region_size)
        : m_dev(dev), m_region_va(region_va), m_region_pa(region_pa), m_region_size(region_size) {}

    // Where the heap region lives, if only known after construction.
    void set_region(const uint8_t* va, uint64_t pa, uint64_t size) {
        m_region_va = va;
        m_region_pa = pa;
        m_region_size = size;
    }

    MacAddress mac() const override;
    uint32_t tx_headroom() const override { return virtio::NetDevice::kHeaderBytes; }
    // CSUM and GUEST_CSUM as the device negotiated them.
    NicOffloads offloads() const override;
    Result<void> start(mem::DmaHeap& heap) override;
    // The libOS over this NIC closed and its heap is gone: resets the
    // device, so it touches no ring and no buffer any more, and forgets the
    // buffers it held (the next heap over the region starts empty). The
    // next start() brings the device up again. One queue pair only (a
    // multiqueue device resets with every core; Unsupported), no lent
    // frames out (Busy). A device that does not reset is given up.
    Result<void> stop();
    Result<void> transmit(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum) override;
    // One frame in one buffer, no offload (the UDP fast path's): no slot
    // table, the buffer itself is the TX cookie (kSingleBuffer).
    Result<void> transmit_frame(mem::Buffer* b, uint32_t off, uint32_t len) override;
    uint32_t poll(uint32_t max, FrameSink& sink) override;

    // Multiqueue: this NIC drives pair `core` of a device whose pairs are
    // reset together through `group` (core 0's NIC owns the device). Before
    // start(); every pair's NIC joins the same group.
    void join_recovery(MqRecovery& group, uint32_t core) {
        m_group = &group;
        m_core = core;
    }

    // Before the core sleeps: turn device interrupts on; false if work
    // arrived meanwhile (then do not sleep). A stopped NIC leaves its rings
    // alone (another core may be setting them up again). Sent frames are
    // reaped first: poll() leaves up to kTxReapBatch of them, which would
    // otherwise count as work and keep the core awake. A device that broke
    // the TX ring shows up here then: no sleep, the next poll() resets it.
    bool arm_interrupts() {
        if (m_broken || m_needs_reset || mail()) [[unlikely]] return may_sleep_stopped();
        if (m_dev.tx_outstanding() != 0) (void)reap_tx(kMaxInFlight);
        if (m_needs_reset) [[unlikely]] return false;
        return !m_dev.enable_interrupts();
    }
    // After a wake-up: acknowledge the device and go back to polling.
    void on_interrupt() {
        // Pair k's NetDevice is core 0's to set up while a multiqueue reset
        // waits for core 0: hands off.
        if (m_needs_reset && m_group != nullptr && m_core != 0) [[unlikely]] return;
        // A config change may be the device asking for a reset (section 2.1.2).
        if ((m_dev.ack_interrupt() & virtio::kInterruptConfigChange) != 0) note_config_change();
        if (!m_needs_reset && !m_broken) m_dev.disable_interrupts();
    }
    // True once the device was given up (kMaxResets exhausted or it would
    // not come back); a reset pending for the next poll() is not broken.
    bool broken() const { return m_broken; }
    bool reset_pending() const { return m_needs_reset; }
    // A test hook (ringlet_nic_inject_fault, echo --nic-fault-after): from
    // the core that polls this NIC, as if the device had just broken a ring.
    void inject_fault() {
        if (!m_broken) m_needs_reset = true;
    }
    const Stats& stats() const { return m_stats; }

    // Zero-copy TX for other cores (issue 14's single-queue hand-off,
    // libos/backend/core_mesh.h): the core owning the device sends another
    // core's frame in place, from `regions` (the other cores' DMA regions:
    // physically contiguous, and with no IOMMU the device reaches any of
    // them) as well as from this heap. The buffer references such a frame
    // carries are the lending core's, never this heap's: whatever happens
    // to it (sent, refused, dropped by a reset), `back(ctx, tag)` is called
    // once for the frame and its buffers are not touched here.
    using LentBack = void (*)(void* ctx, uint64_t tag);
    void lend_tx(const virtio::DmaSpan* regions, uint32_t count, LentBack back, void* ctx) {
        m_lent_regions = regions;
        m_lent_region_count = count;
        m_lent_back = back;
        m_lent_ctx = ctx;
    }
    // transmit() of a lent frame; `tag` (not 0) names it to back(). Full
    // (no slot or descriptor free now) leaves the frame with the caller,
    // untouched and without a back(): it may post it again once the device
    // has used some (every other failure hands it back at once).
    Result<void> transmit_lent(const TxSegment* segs, uint32_t n, uint64_t tag) {
        m_lending = tag;
        auto r = transmit(segs, n, nullptr);
        m_lending = 0;
        return r;
    }
    // RX buffers the device holds now.
    uint32_t rx_posted() const { return m_rx_posted; }

private:
    Result<uint64_t> pa_of(const uint8_t* va, uint32_t len) const;
    // pa_of() of a lent frame's bytes (lend_tx()'s regions).
    Result<uint64_t> lent_pa_of(const uint8_t* va, uint32_t len) const;
    // Lets go of a TX frame's buffers: the one branch between this heap
    // (released) and a lent frame (given back whole, lend_tx()).
    void drop_tx(mem::Buffer* const* bufs, uint32_t n, uint64_t lent) {
        if (lent != 0) [[unlikely]] {
            m_lent_back(m_lent_ctx, lent);
            return;
        }
        for (uint32_t i = 0; i < n; ++i) m_heap->release(bufs[i]);
    }
    Result<void> post_rx_buffer();
    // transmit_frame()'s slow ends: a frame the driver refused (retried
    // after a reap if the ring was full), and one dropped with `e`.
    Result<void> transmit_refused(mem::Buffer* b, uint8_t* va, uint64_t pa, uint32_t len, Error e);
    Result<void> transmit_failed(mem::Buffer* b, Error e);
    // Gives b (one reference, the RX class) to the RX ring; released on failure.
    Result<void> post_rx(mem::Buffer* b);
    // Returns the buffers of up to `max` frames the device finished sending.
    uint32_t reap_tx(uint32_t max);
    // reap_tx() of a frame with a slot cookie: false if it names no frame.
    bool reap_slot(uint64_t cookie);
    // Tops the RX ring up with new buffers (poll(), when it runs low).
    void refill_rx();
    // m_reap_at and m_refill_below for the rings' sizes (after start() and
    // every restart).
    void set_thresholds();
    // TX cookies: a frame in one buffer is that Buffer* (128-byte aligned,
    // so bit 0 clear); a frame of several is its m_tx slot, shifted, with
    // bit 0 set.
    static constexpr uint64_t kSlotCookie = 1;
    static uint64_t slot_cookie(uint32_t slot) { return static_cast<uint64_t>(slot) << 1 | kSlotCookie; }
    // The buffers of the sent (or, after a reset, dropped) frame `cookie`;
    // false if the cookie names no frame in flight (a broken device).
    template <typename Free>
    bool for_each_sent(uint64_t cookie, Free free);
    // The one place a buffer the device is done with goes: straight back
    // onto the RX ring when nobody else holds it, else released (its last
    // holder frees it); post_rx() counts the buffers put back.
    void free_sent(mem::Buffer* b);
    // A TX slot with no frame in it (from m_tx_next on), or -1.
    int32_t free_tx_slot() const;
    // send(), and once more after reaping completions if the ring was full.
    template <typename Send>
    Result<void> send_reaping(Send send);
    // Recovery (virtio_nic_recovery.cc): a pending reset is done, or the
    // device is given up; false if it is (now) unusable.
    bool recover();
    void note_config_change();
    // A note from the other cores of a multiqueue reset waits.
    bool mail() const { return m_group != nullptr && m_group->has_mail(m_core); }
    bool may_sleep_stopped() const;
    // After the device was reset: every buffer it held goes back to the heap
    // (TX frames dropped); then, once it is up again, a full RX ring.
    void take_back_buffers();
    void rearm();
    friend class MqRecovery;

    virtio::NetDevice& m_dev;
    const uint8_t* m_region_va;
    uint64_t m_region_pa;
    uint64_t m_region_size;
    mem::DmaHeap* m_heap = nullptr;
    // TX frames the device holds: their buffers, by slot (the TX cookie).
    mem::Buffer* m_tx[kMaxInFlight][kMaxTxSegments] = {};
    uint32_t m_tx_count[kMaxInFlight] = {};
    uint64_t m_tx_lent[kMaxInFlight] = {};  // a lent frame's tag (transmit_lent), else 0
    uint64_t m_lending = 0;                 // transmit_lent()'s tag while it runs
    const virtio::DmaSpan* m_lent_regions = nullptr;
    uint32_t m_lent_region_count = 0;
    LentBack m_lent_back = nullptr;
    void* m_lent_ctx = nullptr;
    uint32_t m_tx_next = 0;
    uint32_t m_rx_posted = 0;
    uint32_t m_reap_at = kTxReapBatch;  // poll() reaps once this many TX frames are in flight
    // poll() refills the RX ring when fewer buffers than this are posted
    // (until start() sets it: always look).
    uint32_t m_refill_below = ~0u;
    Stats m_stats;
    bool m_broken = false;
    bool m_needs_reset = false;  // the device misbehaved (or a multiqueue reset runs): reset on the next poll()
    bool m_stopped = false;      // stop() reset the device: start() brings it up again
    MqRecovery* m_group = nullptr;
    uint32_t m_core = 0;
};

template <typename Free>
[[gnu::always_inline]] inline bool VirtioNic::for_each_sent(uint64_t cookie, Free free) {
    if ((cookie & kSlotCookie) == 0) [[likely]] {
        // Our own cookie back from the Virtqueue (which checked the
        // device's id): a single-buffer frame's Buffer*.
        free(reinterpret_cast<mem::Buffer*>(cookie));
        return true;
    }
    const uint64_t slot = cookie >> 1;
    if (slot >= kMaxInFlight || m_tx_count[slot] == 0) return false;
    if (m_tx_lent[slot] != 0) [[unlikely]] {  // another core's frame goes back to it whole (lend_tx())
        drop_tx(m_tx[slot], m_tx_count[slot], m_tx_lent[slot]);
        m_tx_lent[slot] = 0;
        m_tx_count[slot] = 0;
        return true;
    }
    for (uint32_t i = 0; i < m_tx_count[slot]; ++i) free(m_tx[slot][i]);
    m_tx_count[slot] = 0;
    return true;
}

}  // namespace ringlet::net
