#include "net/virtio_nic.h"

namespace ringlet::net {

MacAddress VirtioNic::mac() const {
    MacAddress m{};
    const uint8_t* src = m_dev.mac();
    for (int i = 0; i < 6; ++i) m.bytes[i] = src[i];
    return m;
}

NicOffloads VirtioNic::offloads() const {
    NicOffloads o;
    o.tx_checksum = (m_dev.features() & virtio::net_feature::kCsum) != 0;
    o.rx_checksum = (m_dev.features() & virtio::net_feature::kGuestCsum) != 0;
    return o;
}

Result<uint64_t> VirtioNic::pa_of(const uint8_t* va, uint32_t len) const {
    if (va < m_region_va || static_cast<uint64_t>(va - m_region_va) + len > m_region_size) [[unlikely]] {
        return lent_pa_of(va, len);
    }
    return m_region_pa + static_cast<uint64_t>(va - m_region_va);
}

Result<uint64_t> VirtioNic::lent_pa_of(const uint8_t* va, uint32_t len) const {
    for (uint32_t i = 0; m_lending != 0 && i < m_lent_region_count; ++i) {
        const virtio::DmaSpan& r = m_lent_regions[i];
        if (va >= r.va && static_cast<uint64_t>(va - r.va) + len <= r.len) return r.pa + static_cast<uint64_t>(va - r.va);
    }
    return Error::BadAddress;
}

// Inline: once per frame, from the reap of the frame it was sent in.
[[gnu::always_inline]] inline Result<void> VirtioNic::post_rx(mem::Buffer* b) {
    uint8_t* va = b->data();
    const auto len = static_cast<uint32_t>(b->capacity);
    const uint64_t at = static_cast<uint64_t>(va - m_region_va);
    Result<void> r = Error::BadAddress;
    if (va >= m_region_va && at + len <= m_region_size) [[likely]] {
        r = m_dev.post_rx(virtio::RxBuffer{va, m_region_pa + at, len, reinterpret_cast<uint64_t>(b)});
    }
    if (!r) [[unlikely]] {
        m_heap->release(b);
        return r;
    }
    ++m_rx_posted;
    return {};
}

Result<void> VirtioNic::post_rx_buffer() {
    auto alloc = m_heap->alloc(virtio::NetDevice::kMinRxBuffer);
    if (!alloc) {
        ++m_stats.rx_refill_failed;
        return alloc.error();
    }
    return post_rx(*alloc);
}

Result<void> VirtioNic::start(mem::DmaHeap& heap) {
    if (m_stopped) [[unlikely]] {  // reopened after stop(): the device comes up as at init()
        TRY(m_dev.restart());
        m_stopped = false;
    }
    m_heap = &heap;
    // A multiqueue reset in progress sets this pair up again: hold nothing
    // until it is over (virtio_nic_recovery.cc joins it then).
    if (m_group != nullptr && !m_group->join(m_core)) [[unlikely]] {
        m_needs_reset = true;
        return {};
    }
    while (m_rx_posted < m_dev.rx_queue_size()) TRY(post_rx_buffer());
    TRY(m_dev.kick_rx());
    set_thresholds();
    // Poll while busy; interrupts only when the core is about to sleep.
    m_dev.disable_interrupts();
    return {};
}

int32_t VirtioNic::free_tx_slot() const {
    uint32_t slot = m_tx_next;
    for (uint32_t k = 0; k < kMaxInFlight && m_tx_count[slot] != 0; ++k) slot = (slot + 1) % kMaxInFlight;
    return m_tx_count[slot] == 0 ? static_cast<int32_t>(slot) : -1;
}

template <typename Send>
Result<void> VirtioNic::send_reaping(Send send) {
    auto r = send();
    if (!r && r.error() == Error::Full) {
        // Completions are otherwise reaped by poll(), which may not run
        // before a burst (one tcp_output) fills the ring: take back what
        // the device has finished and try again.
        (void)reap_tx(kMaxInFlight);
        r = send();
        if (!r && r.error() == Error::Full) m_dev.renotify_tx();  // the device sits on a full ring
    }
    if (!r && r.error() == Error::Full) ++m_stats.tx_ring_full;
    return r;
}

Result<void> VirtioNic::transmit_frame(mem::Buffer* b, uint32_t off, uint32_t len) {
    uint8_t* va = b->data() + off;
    // The device address must cover the header the driver writes in front.
    const uint8_t* head = va - virtio::NetDevice::kHeaderBytes;
    const uint64_t at = static_cast<uint64_t>(head - m_region_va);
    if (m_broken || m_needs_reset) [[unlikely]] return transmit_failed(b, Error::IoError);
    if (head < m_region_va || at + len + virtio::NetDevice::kHeaderBytes > m_region_size) [[unlikely]] {
        return transmit_failed(b, Error::BadAddress);
    }
    const uint64_t pa = m_region_pa + at + virtio::NetDevice::kHeaderBytes;
    auto r = m_dev.transmit_one(virtio::TxSegment{va, pa, len}, reinterpret_cast<uint64_t>(b));
    if (!r) [[unlikely]] return transmit_refused(b, va, pa, len, r.error());
    return r;
}

// transmit_frame() when the driver refused the frame: out of line, so the
// per-frame path saves no registers for it.
[[gnu::noinline]] Result<void> VirtioNic::transmit_refused(mem::Buffer* b, uint8_t* va, uint64_t pa, uint32_t len,
                                                           Error e) {
    Result<void> r = e;
    if (e == Error::Full) {
        const virtio::TxSegment out{va, pa, len};
        const auto cookie = reinterpret_cast<uint64_t>(b);
        r = send_reaping([&] { return m_dev.transmit_one(out, cookie); });
    }
    if (!r) return transmit_failed(b, r.error());
    return r;
}

[[gnu::noinline]] Result<void> VirtioNic::transmit_failed(mem::Buffer* b, Error e) {
    m_heap->release(b);
    return e;
}

Result<void> VirtioNic::transmit(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum) {
    auto drop_all = [&](Error e) -> Result<void> {
        // A lent frame the ring has no room for stays its lender's, who
        // posts it again later (CoreMesh): nothing is handed back.
        if (m_lending != 0 && e == Error::Full) [[unlikely]] return e;
        if (m_lending != 0) [[unlikely]] drop_tx(nullptr, 0, m_lending);
        else for (uint32_t i = 0; i < n; ++i) m_heap->release(segs[i].buf);
        return e;
    };
    if (m_broken || m_needs_reset) return drop_all(Error::IoError);
    if (n == 0 || n > kMaxTxSegments) return drop_all(Error::InvalidArgument);
    // A lent frame (transmit_lent) takes a slot, where its tag is kept.
    if (n == 1 && csum == nullptr && m_lending == 0) [[likely]] {
        return transmit_frame(segs[0].buf, segs[0].offset, segs[0].len);
    }
    const int32_t slot = free_tx_slot();
    if (slot < 0) return drop_all(Error::Full);
    virtio::TxSegment out[kMaxTxSegments];
    for (uint32_t i = 0; i < n; ++i) {
        uint8_t* va = segs[i].buf->data() + segs[i].offset;
        // The first segment's pa must cover the header the driver writes in front.
        uint32_t lead = i == 0 ? virtio::NetDevice::kHeaderBytes : 0;
        auto pa = pa_of(va - lead, segs[i].len + lead);
        if (!pa) return drop_all(pa.error());
        out[i] = virtio::TxSegment{va, *pa + lead, segs[i].len};
    }
    virtio::TxChecksum offload;
    if (csum != nullptr) offload = virtio::TxChecksum{csum->start, csum->offset};
    const virtio::TxChecksum* want = csum != nullptr ? &offload : nullptr;
    auto r = send_reaping([&] { return m_dev.transmit(out, n, slot_cookie(static_cast<uint32_t>(slot)), want); });
    if (!r) return drop_all(r.error());
    for (uint32_t i = 0; i < n; ++i) m_tx[slot][i] = segs[i].buf;
    m_tx_count[slot] = n;
    m_tx_lent[slot] = m_lending;
    m_tx_next = (static_cast<uint32_t>(slot) + 1) % kMaxInFlight;
    return {};
}

namespace {
constexpr uint32_t kRxClass = mem::DmaHeap::class_for(virtio::NetDevice::kMinRxBuffer);
}  // namespace

[[gnu::always_inline]] inline void VirtioNic::free_sent(mem::Buffer* b) {
    // A sent frame's buffer nobody else holds (an echoed datagram the app
    // already freed) of the RX class goes straight back onto the RX ring:
    // no trip through the free list and no refill alloc.
    if (m_rx_posted < m_dev.rx_queue_size() && m_heap->reuse_last(b, virtio::NetDevice::kMinRxBuffer, kRxClass)) {
        (void)post_rx(b);  // counted in m_rx_posted; on failure post_rx released it
    } else {
        m_heap->release(b);
    }
}

// A sent frame of several buffers or a lent one (its m_tx slot): out of
// line, so the one-buffer loop in reap_tx() stays small.
[[gnu::noinline]] bool VirtioNic::reap_slot(uint64_t cookie) {
    return for_each_sent(cookie, [&](mem::Buffer* b) { free_sent(b); });
}

uint32_t VirtioNic::reap_tx(uint32_t max) {
    // Locals for what the loop reads on every frame: stores through the
    // buffers' and rings' pointers would otherwise make the compiler load
    // them again each time.
    virtio::NetDevice& dev = m_dev;
    mem::DmaHeap& heap = *m_heap;
    const uint8_t* const region_va = m_region_va;
    const uint64_t region_size = m_region_size;
    // A buffer's device address is its offset in the region plus this.
    const uint64_t region_pa = m_region_pa;
    const uint32_t rx_size = dev.rx_queue_size();
    const uint32_t posted_before = m_rx_posted;
    uint32_t posted = posted_before;  // written back after the loop
    uint32_t done = 0;
    while (done < max) {  // TX completions: give the buffers back
        uint64_t cookie;
        if (const Error e = dev.next_tx(&cookie); e != Error::Ok) {
            if (e != Error::Empty) m_needs_reset = true;  // a misbehaving device: reset it
            break;
        }
        ++done;
        if ((cookie & kSlotCookie) != 0) [[unlikely]] {
            m_rx_posted = posted;
            const bool ok = reap_slot(cookie);  // counts in m_rx_posted itself
            posted = m_rx_posted;
            if (!ok) {
                m_needs_reset = true;
                break;
            }
            continue;
        }
        // Our own cookie back from the Virtqueue (which checked the
        // device's id): a single-buffer frame's Buffer*. free_sent() and
        // post_rx(), with the loop's locals.
        auto* b = reinterpret_cast<mem::Buffer*>(cookie);
        if (posted >= rx_size || !heap.reuse_last(b, virtio::NetDevice::kMinRxBuffer, kRxClass)) {
            heap.release(b);
            continue;
        }
        uint8_t* va = b->data();
        const auto len = static_cast<uint32_t>(b->capacity);
        const uint64_t at = static_cast<uint64_t>(va - region_va);
        if (va >= region_va && at + len <= region_size &&
            dev.post_rx(virtio::RxBuffer{va, region_pa + at, len, cookie}).ok()) [[likely]] {
            ++posted;
        } else {
            heap.release(b);
        }
    }
    m_rx_posted = posted;
    // Nothing else adds to m_rx_posted here: the difference is what went
    // back onto the RX ring.
    if (const uint32_t reposted = posted - posted_before; reposted != 0) {
        m_stats.rx_recycled += reposted;
        (void)dev.kick_rx();
    }
    return done;
}

uint32_t VirtioNic::poll(uint32_t max, FrameSink& sink) {
    if ((m_broken || m_needs_reset || mail()) && !recover()) [[unlikely]] return 0;
    virtio::NetDevice& dev = m_dev;
    // Sent frames only give buffers back: reaped in batches (m_reap_at).
    uint32_t done = dev.tx_outstanding() >= m_reap_at ? reap_tx(max) : 0;
    uint32_t received = 0;
    while (done < max) {
        const virtio::RxDone frame = dev.receive();
        if (frame.error() != Error::Ok) {
            if (frame.error() != Error::Empty) m_needs_reset = true;  // reset below
            break;
        }
        // Our RX buffers are posted from their data() (post_rx()), so the
        // frame starts right after the virtio-net header. csum_ok: verified
        // by the device, or NEEDS_CSUM on receive (a local sender left the
        // checksum to be filled in: the data never crossed a wire, virtio
        // 5.1.6.4).
        sink.receive(reinterpret_cast<mem::Buffer*>(frame.cookie), virtio::NetDevice::kHeaderBytes, frame.len,
                     frame.csum_ok);
        ++received;
        ++done;
    }
    m_rx_posted -= received;
    // Keep the ring full. A heap that ran short leaves it with fewer
    // buffers until a later poll tops it up again: a ring left empty would
    // make the device hold every frame until the next kick, which never
    // comes.
    // Refilled in batches (kRxRefillBatch, or at once when the ring runs
    // low), so one kick publishes several buffers instead of one per frame.
    if (m_needs_reset) [[unlikely]] {
        (void)recover();  // refills the ring itself
        return done;
    }
    if (m_rx_posted < m_refill_below) [[unlikely]] refill_rx();
    return done;
}

[[gnu::noinline]] void VirtioNic::refill_rx() {
    const uint32_t size = m_dev.rx_queue_size();
    uint32_t posted = 0;
    while (m_rx_posted < size && post_rx_buffer().ok()) ++posted;
    if (posted) (void)m_dev.kick_rx();
}

void VirtioNic::set_thresholds() {
    // A small ring reaps at half full, so sends never wait on a full one.
    const uint32_t half = m_dev.tx_queue_size() / 2u;
    m_reap_at = half < kTxReapBatch ? (half > 0 ? half : 1) : kTxReapBatch;
    // Refill when kRxRefillBatch buffers are missing (posted <= size - 32),
    // or when the ring is less than half full (then some are missing too).
    const uint32_t size = m_dev.rx_queue_size();
    const uint32_t batch_missing = size >= kRxRefillBatch ? size - kRxRefillBatch + 1 : 0;
    m_refill_below = batch_missing > size / 2 ? batch_missing : size / 2;
}

}  // namespace ringlet::net
