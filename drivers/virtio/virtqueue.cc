#include "drivers/virtio/virtqueue.h"


namespace ringlet::virtio {

namespace {

// Descriptor flags (section 2.7.5).
constexpr uint16_t kDescNext = 1;
constexpr uint16_t kDescWrite = 2;
// Available ring flags (section 2.7.6) and used ring flags (section 2.7.8).
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint16_t kUsedNoNotify = 1;

// Fields shared with the device are accessed with single, untorn loads and
// stores the compiler may not merge or repeat; ordering comes from explicit
// fences, each placed where the spec asks for one.
uint16_t load16(const void* p) { return __atomic_load_n(static_cast<const uint16_t*>(p), __ATOMIC_RELAXED); }
uint32_t load32(const void* p) { return __atomic_load_n(static_cast<const uint32_t*>(p), __ATOMIC_RELAXED); }
void store16(void* p, uint16_t v) { __atomic_store_n(static_cast<uint16_t*>(p), v, __ATOMIC_RELAXED); }

// The event-index rule of section 2.7.10 (mirrored in 2.7.7): notify iff
// `event` lies in the window of indices (old, new] just published/consumed,
// computed modulo 2^16.
bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
    return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

}  // namespace

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
    q.m_avail = reinterpret_cast<uint16_t*>(q.m_ring + avail_offset(size));
    q.m_used = q.m_ring + used_offset(size);
    q.m_event_idx = config.event_idx;
    q.m_free_count = size;
    for (uint16_t i = 0; i < size; ++i) q.m_free_bits[i / 64] |= 1ull << (i % 64);
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

// Inline: pop_next() stays a leaf function (no registers saved per pop).
[[gnu::always_inline]] inline void Virtqueue::free_chain(uint16_t head) {
    if (m_chain_len[head] == 1) {  // the per-packet case: one descriptor
        m_state[head] = SlotState::Free;
        m_free_bits[head / 64] |= 1ull << (head % 64);
        ++m_free_count;
        m_chain_len[head] = 0;
        return;
    }
    // Walk our own copy of the links: the descriptor table is in memory the
    // device could have scribbled on, and m_chain_len bounds the walk anyway.
    uint16_t d = head;
    for (uint16_t i = 0; i < m_chain_len[head]; ++i) {
        uint16_t next = m_next[d];
        m_state[d] = SlotState::Free;
        m_free_bits[d / 64] |= 1ull << (d % 64);
        ++m_free_count;
        d = next;
    }
    m_chain_len[head] = 0;
    m_writable[head] = 0;
    m_cookie[head] = 0;
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
        m_state[d] = SlotState::Body;
        d = next;
    }
    uint16_t h = static_cast<uint16_t>(head);
    m_state[h] = SlotState::Pending;
    m_chain_len[h] = static_cast<uint16_t>(n);
    m_writable[h] = static_cast<uint32_t>(writable_total);
    m_cookie[h] = cookie;

    // Section 2.7.13.2: the head goes into the next free avail ring slot;
    // the device ignores it until idx moves past it in kick().
    uint16_t slot = static_cast<uint16_t>((m_avail_idx + m_added) & (m_size - 1));
    avail()[2 + slot] = h;
    m_avail_shadow[slot] = h;
    ++m_added;
    return h;
}

Result<uint16_t> Virtqueue::add_one(const Segment& s, bool writable, uint64_t cookie) {
    if (m_broken) return Error::BadFormat;
    // A segment is at most 4 GiB - 1, below add()'s 2^32 chain limit.
    if (s.len == 0 || s.pa + s.len < s.pa) return Error::InvalidArgument;
    if (m_free_count == 0) return Error::Full;
    const int32_t d = alloc_desc();  // cannot fail: a descriptor is free
    Desc& desc_d = desc()[d];
    desc_d.addr = s.pa;
    desc_d.len = s.len;
    desc_d.flags = writable ? kDescWrite : 0;
    desc_d.next = 0;
    const uint16_t h = static_cast<uint16_t>(d);
    m_next[h] = 0;
    m_state[h] = SlotState::Pending;
    m_chain_len[h] = 1;
    m_writable[h] = writable ? s.len : 0;
    m_cookie[h] = cookie;
    // Section 2.7.13.2, as in add().
    const uint16_t slot = static_cast<uint16_t>((m_avail_idx + m_added) & (m_size - 1));
    avail()[2 + slot] = h;
    m_avail_shadow[slot] = h;
    ++m_added;
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
    m_state[t] = SlotState::Body;
    m_state[h] = SlotState::Pending;
    m_chain_len[h] = 2;
    m_writable[h] = 0;
    m_cookie[h] = cookie;
    // Section 2.7.13.2, as in add().
    const uint16_t slot = static_cast<uint16_t>((m_avail_idx + m_added) & (m_size - 1));
    avail()[2 + slot] = h;
    m_avail_shadow[slot] = h;
    ++m_added;
    return h;
}

Result<bool> Virtqueue::kick() {
    if (m_broken) return Error::BadFormat;
    if (m_added == 0) return false;
    const MmioWindow& w = m_doorbell.window;

    // Section 2.7.13 step 4 (and 2.7.13.3.1): descriptors and ring entries
    // must be visible to the device before the idx that exposes them.
    w.fence(Fence::Write);
    uint16_t old_idx = m_avail_idx;
    uint16_t new_idx = static_cast<uint16_t>(old_idx + m_added);
    // Step 5: advance idx by the number of heads added (wraps at 2^16).
    store16(avail() + 1, new_idx);
    for (uint16_t i = 0; i < m_added; ++i) {
        m_state[m_avail_shadow[(old_idx + i) & (m_size - 1)]] = SlotState::InFlight;
    }
    m_in_flight = static_cast<uint16_t>(m_in_flight + m_added);
    m_avail_idx = new_idx;
    m_added = 0;

    // Step 6 (and 2.7.13.4.1): the idx store must be visible before we read
    // the device's suppression hint, else we could skip a notification the
    // device was about to ask for.
    w.fence(Fence::Full);
    bool notify;
    if (m_event_idx) {
        // Section 2.7.10: notify iff avail_event lies in (old, new].
        uint16_t avail_event = load16(used() + 4 + 8u * m_size);
        notify = need_event(avail_event, new_idx, old_idx);
    } else {
        // Section 2.7.10: without EVENT_IDX, used flags bit 0 = NO_NOTIFY.
        notify = (load16(used()) & kUsedNoNotify) == 0;
    }
    // Step 7, section 4.2.3.3: the notification is a QueueNotify write of
    // the queue index (the window orders it after the ring stores).
    if (notify) w.write32(m_doorbell.offset, m_doorbell.value);
    return notify;
}

uint16_t Virtqueue::load_used_idx() const { return load16(used() + 2); }

bool Virtqueue::has_used() const { return !m_broken && load_used_idx() != m_last_used; }

Result<Completion> Virtqueue::fail_bad_device() {
    m_broken = true;
    return Error::BadFormat;
}

Result<Completion> Virtqueue::pop_next() {
    if (m_broken) return Error::BadFormat;
    if (m_last_used == m_used_seen) {
        uint16_t idx = load_used_idx();
        uint16_t delta = static_cast<uint16_t>(idx - m_last_used);
        if (delta == 0) return Error::Empty;
        // The device can only return chains it was given: a used idx that
        // moved further (more than the queue size, or backwards, which
        // shows as a huge delta) is a lie.
        if (delta > m_in_flight) return fail_bad_device();
        m_used_seen = idx;
        // Section 2.7.8 (device sets len and the entry before idx): read the
        // entries only after the idx that covers them.
        m_doorbell.window.fence(Fence::Read);
    }

    // Read the entry once into locals; the device may rewrite it.
    const uint8_t* elem = used() + 4 + 8u * (m_last_used & (m_size - 1));
    uint32_t id = load32(elem);
    uint32_t len = load32(elem + 4);
    if (id >= m_size || m_state[id] != SlotState::InFlight) return fail_bad_device();
    // Section 2.7.8.1 (len is what the device wrote into the writable part)
    // so it cannot exceed what we offered.
    if (len > m_writable[id]) return fail_bad_device();

    Completion c;
    c.cookie = m_cookie[id];
    c.len = len;
    c.head = static_cast<uint16_t>(id);
    free_chain(static_cast<uint16_t>(id));
    ++m_last_used;
    --m_in_flight;
    // Section 2.7.7 with EVENT_IDX: while interrupts are wanted, ask for one
    // when the device writes the entry after the last one we consumed.
    if (m_event_idx && m_interrupts_on) store16(used_event(), m_last_used);
    return c;
}

void Virtqueue::disable_interrupts() {
    m_interrupts_on = false;
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
    m_interrupts_on = true;
    if (m_event_idx) {
        store16(used_event(), m_last_used);  // section 2.7.7: interrupt at the next entry
    } else {
        store16(avail(), 0);
    }
    // Section 2.7.14 note: make the re-enable visible before re-checking
    // the used idx, or a completion in between would raise no interrupt and
    // the caller would sleep through it.
    m_doorbell.window.fence(Fence::Full);
    return load_used_idx() != m_last_used;
}

Result<Completion> Virtqueue::reclaim() {
    for (uint16_t d = 0; d < m_size; ++d) {
        if (m_state[d] == SlotState::Pending || m_state[d] == SlotState::InFlight) {
            bool was_published = m_state[d] == SlotState::InFlight;
            Completion c;
            c.cookie = m_cookie[d];
            c.head = d;
            free_chain(d);
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
