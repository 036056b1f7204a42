#include "drivers/virtio/virtqueue.h"


namespace ringlet::virtio {

using namespace vq;

Result<Virtqueue> Virtqueue::create(const VirtqueueConfig& config) {
    uint16_t size = config.size;
    if (size == 0 || size > kMaxSize || (size & (size - 1)) != 0) return Error::InvalidArgument;
    // Section 2.7 alignment table: the descriptor table needs 16 bytes; the
    // other parts follow at offsets that keep theirs (2 and 4).
    if (config.ring.va == nullptr || (reinterpret_cast<uintptr_t>(config.ring.va) & 15) != 0 ||
        (config.ring.pa & 15) != 0 || config.ring.len < ring_bytes(size)) {
        return Error::InvalidArgument;
    }
    if (!config.doorbell.window.valid()) return Error::InvalidArgument;

    Virtqueue q;
    q.m_ring = config.ring.va;
    q.m_ring_pa = config.ring.pa;
    q.m_doorbell = config.doorbell;
    q.m_size = size;
    q.m_mask = size - 1u;
    q.m_avail = reinterpret_cast<uint16_t*>(q.m_ring + avail_offset(size));
    q.m_used = q.m_ring + used_offset(size);
    q.m_event_idx = config.event_idx;
    q.m_used_event_on = config.event_idx;
    // Descriptor 0 on top: the first chains take 0, 1, 2, ...
    for (uint16_t i = size; i > 0; --i) q.push_free(static_cast<uint16_t>(i - 1));
    // Section 2.7.10: the driver initialises the used ring's flags to 0;
    // zeroing everything also starts both indices at 0 (sections 2.7.6, 2.7.8).
    __builtin_memset(q.m_ring, 0, ring_bytes(size));
    return q;
}

Result<Virtqueue> Virtqueue::setup(MmioTransport& transport, uint16_t index, DmaSpan ring, uint16_t max_size) {
    uint16_t offered = TRY(transport.queue_max(index));
    uint16_t limit = offered < max_size ? offered : max_size;
    if (limit > kMaxSize) limit = kMaxSize;
    if (limit == 0) return Error::InvalidArgument;
    // Section 2.7: split queue sizes are powers of two; a device may offer
    // any QueueNumMax, so round down.
    uint16_t size = 1;
    while (static_cast<uint32_t>(size) * 2 <= limit) size = static_cast<uint16_t>(size * 2);
    VirtqueueConfig config;
    config.ring = ring;
    config.size = size;
    config.event_idx = (transport.features() & feature::kEventIdx) != 0;
    config.doorbell = transport.doorbell(index);
    // Built straight into the returned Result: a Virtqueue is ~5 KB and
    // U-mode stacks are small, so no extra copies on the way out.
    Result<Virtqueue> q = create(config);
    if (!q.ok()) return q;
    TRY(transport.enable_queue(index, size, q->desc_pa(), q->avail_pa(), q->used_pa()));
    return q;
}

Result<uint16_t> Virtqueue::add(const Segment* readable, uint32_t nr, const Segment* writable, uint32_t nw,
                                uint64_t cookie) {
    if (m_broken) return Error::BadFormat;
    uint32_t n = nr + nw;
    if (n == 0 || n < nr || (nr != 0 && readable == nullptr) || (nw != 0 && writable == nullptr)) {
        return Error::InvalidArgument;
    }
    // Section 2.7.5.3.1: no chain longer than the queue size.
    if (n > m_size) return Error::InvalidArgument;
    if (n > m_free_count) return Error::Full;

    // Check every segment before touching the table, so a refused chain
    // leaves no trace.
    uint64_t total = 0;
    uint64_t writable_total = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const Segment& s = i < nr ? readable[i] : writable[i - nr];
        if (s.len == 0 || s.pa + s.len < s.pa) return Error::InvalidArgument;
        total += s.len;
        if (i >= nr) writable_total += s.len;
    }
    // Section 2.7.5.2: a chain is at most 2^32 bytes; keep it below so the
    // device's 32-bit used length can describe all of it.
    if (total > 0xffffffffull) return Error::InvalidArgument;

    // Section 2.7.13.1: place each element in a free descriptor, readable
    // ones without VIRTQ_DESC_F_WRITE, and link them with NEXT. The next
    // descriptor is taken before the current one is written, so each is
    // written once (it is memory the device reads).
    const int32_t head = alloc_desc();  // cannot fail: m_free_count >= n was checked
    int32_t d = head;
    for (uint32_t i = 0; i < n; ++i) {
        const bool w = i >= nr;
        const Segment& s = w ? writable[i - nr] : readable[i];
        const bool last = i + 1 == n;
        const uint16_t next = last ? 0 : static_cast<uint16_t>(alloc_desc());
        Desc& desc_d = desc()[d];
        desc_d.addr = s.pa;
        desc_d.len = s.len;
        desc_d.flags = static_cast<uint16_t>((w ? kDescWrite : 0) | (last ? 0 : kDescNext));
        desc_d.next = next;
        m_next[d] = next;
        m_heads[d].state = SlotState::Body;
        d = next;
    }
    const auto h = static_cast<uint16_t>(head);
    m_heads[h].cookie = cookie;
    set_meta(m_heads[h], static_cast<uint32_t>(writable_total), static_cast<uint16_t>(n), SlotState::Pending);

    queue_head(h);
    return h;
}

Result<uint16_t> Virtqueue::add_two(const Segment& a, const Segment& b, uint64_t cookie) {
    if (m_broken) return Error::BadFormat;
    // As add(): no empty or wrapping segment, a chain below 2^32 bytes and
    // no longer than the queue.
    if (a.len == 0 || b.len == 0 || a.pa + a.len < a.pa || b.pa + b.len < b.pa ||
        static_cast<uint64_t>(a.len) + b.len > 0xffffffffull || m_size < 2) {
        return Error::InvalidArgument;
    }
    if (m_free_count < 2) return Error::Full;
    const auto h = static_cast<uint16_t>(alloc_desc());  // cannot fail: two are free
    const auto t = static_cast<uint16_t>(alloc_desc());
    Desc& dh = desc()[h];
    dh.addr = a.pa;
    dh.len = a.len;
    dh.flags = kDescNext;
    dh.next = t;
    Desc& dt = desc()[t];
    dt.addr = b.pa;
    dt.len = b.len;
    dt.flags = 0;
    dt.next = 0;
    m_next[h] = t;
    m_next[t] = 0;
    m_heads[t].state = SlotState::Body;
    m_heads[h].cookie = cookie;
    set_meta(m_heads[h], 0, 2, SlotState::Pending);
    queue_head(h);
    return h;
}

uint16_t Virtqueue::load_used_idx() const { return load16(used() + 2); }

bool Virtqueue::has_used() const { return !m_broken && load_used_idx() != m_last_used; }

Error Virtqueue::fail_bad_device() {
    m_broken = true;
    return Error::BadFormat;
}

void Virtqueue::disable_interrupts() {
    m_used_event_on = false;
    if (m_event_idx) {
        // Section 2.7.7: with EVENT_IDX flags must stay 0; put used_event as
        // far behind as possible, so the device would have to wrap the
        // 16-bit index before it interrupts.
        store16(used_event(), static_cast<uint16_t>(m_last_used - 1));
    } else {
        store16(avail(), kAvailNoInterrupt);
    }
}

bool Virtqueue::enable_interrupts() {
    if (m_broken) return true;
    m_used_event_on = m_event_idx;
    if (m_event_idx) {
        store16(used_event(), m_last_used);  // section 2.7.7: interrupt at the next entry
    } else {
        store16(avail(), 0);
    }
    // Section 2.7.14 note: make the re-enable visible before re-checking
    // the used idx, or a completion in between would raise no interrupt and
    // the caller would sleep through it. Fence::Device: a plain fence does
    // not hold on QEMU's single-threaded TCG (mmio_window.h).
    m_doorbell.window.fence(Fence::Device);
    return load_used_idx() != m_last_used;
}

Result<Completion> Virtqueue::reclaim() {
    for (uint16_t d = 0; d < m_size; ++d) {
        const SlotState st = m_heads[d].state;
        if (st == SlotState::Pending || st == SlotState::InFlight) {
            const bool was_published = st == SlotState::InFlight;
            Completion c;
            c.cookie = m_heads[d].cookie;
            c.head = d;
            free_chain(m_heads[d], d);
            if (was_published) {
                --m_in_flight;
            } else {
                --m_added;
            }
            return c;
        }
    }
    return Error::Empty;
}

}  // namespace ringlet::virtio
