#include "libos/backend/core_mesh.h"

#include <string.h>

#include "ringlet/bits.h"

namespace ringlet::backend {

namespace {
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kArpReply = 2;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
}  // namespace

Result<void> CoreMesh::init(uint32_t cores, net::MacAddress mac, uint32_t tx_headroom, Wake wake, void* wake_ctx) {
    if (cores == 0 || cores > kMeshCores) return Error::InvalidArgument;
    TRY(m_steering.init(static_cast<uint16_t>(cores)));
    for (uint32_t k = 0; k < cores; ++k) TRY(m_local_ports[k].init(m_steering, static_cast<uint16_t>(k)));
    m_cores = cores;
    m_mac = mac;
    m_tx_headroom = tx_headroom;
    m_wake = wake;
    m_wake_ctx = wake_ctx;
    for (uint32_t k = 0; k < kMeshCores; ++k) {
        m_ports[k] = Port{this, k};
        m_free_requests[k] = nullptr;
        for (uint32_t i = 0; i < kTxRequests; ++i) {
            m_requests[k][i].next_free = m_free_requests[k];
            m_free_requests[k] = &m_requests[k][i];
        }
    }
    return {};
}

Result<void> CoreMesh::track_lent(const void* base, uint64_t bytes) {
    if (base == nullptr || bytes > kLentTrackBytes) return Error::InvalidArgument;
    m_owner_base = static_cast<const uint8_t*>(base);
    m_owner_bytes = bytes;
    return {};
}

// A buffer's header starts a block, and blocks start on 256-byte granules
// of the heap's region: its granule names it.
void CoreMesh::mark_lent(uint32_t core, const mem::Buffer* b) {
    const uint64_t off = static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(b) - m_owner_base);
    if (m_owner_base == nullptr || off >= m_owner_bytes) return;
    const uint64_t g = off / kLentGranule;
    m_lent_map[core][g / 64] |= 1ull << (g % 64);
}

void CoreMesh::unmark_lent(uint32_t core, const mem::Buffer* b) {
    const uint64_t off = static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(b) - m_owner_base);
    if (m_owner_base == nullptr || off >= m_owner_bytes) return;
    const uint64_t g = off / kLentGranule;
    m_lent_map[core][g / 64] &= ~(1ull << (g % 64));
}

void CoreMesh::join(uint32_t core, mem::DmaHeap& heap) {
    m_heaps[core] = &heap;
    // Another core's heap finds the owner's buffers (lent to it) through
    // the table, and gives their last references back through the mesh.
    if (core != 0) heap.set_peers(m_heaps, 1, &CoreMesh::give_back, &m_ports[core]);
    m_joined[core].store(1, std::memory_order_release);
}

// ---- the owner ----

bool CoreMesh::hand_rx(uint32_t core, mem::Buffer* b, uint32_t off, uint32_t len) {
    b->off = off;  // the owner's alone until the push publishes it
    b->len = len;
    if (!m_rx[core].try_push(b)) return false;
    mark_lent(core, b);  // the owner's own map: core `core` never reads it
    return true;
}

uint32_t CoreMesh::owner_poll(mem::DmaHeap& heap, const LentTx& tx) {
    uint32_t n = 0;
    // A core that left is still served: its buffers come home, its queued
    // frames go out and their descriptors back (reclaim() waits for them).
    for (uint32_t k = 1; k < m_cores; ++k) {
        // Read first: everything core k did before leaving is visible then.
        const bool left = m_left[k].load(std::memory_order_acquire) != 0;
        while (mem::Buffer* b = m_back[k].try_pop()) {
            unmark_lent(k, b);
            heap.release(b);  // the last reference, handed over by core k
            ++n;
        }
        if (m_tx_later_count[k] != 0) [[unlikely]] n += return_later(k);
        bool room = true;
        if (TxRequest* r = m_tx_retry[k]) [[unlikely]] {
            m_tx_retry[k] = nullptr;
            room = post_lent(k, r, tx);
            n += room;
        }
        while (room) {
            TxRequest* r = m_tx[k].try_pop();
            if (r == nullptr) break;
            ++n;
            room = post_lent(k, r, tx);
        }
        if (left) [[unlikely]] n += settle_leaving(k, heap);
    }
    return n;
}

bool CoreMesh::post_lent(uint32_t k, TxRequest* r, const LentTx& tx) {
    // Waiting, not dropping: a full ring or a core holding its share of it
    // (kLentTxCap) drains as the device uses frames, and the owner does not
    // sleep while a frame waits (pending_for), so the next round posts it.
    if (m_lent_out[k] + r->count > kLentTxCap) [[unlikely]] {
        m_tx_retry[k] = r;
        ++m_stats[0].tx_waited;
        return false;
    }
    // Posted where it lies: the device reads core k's buffers, and
    // lent_done() hands the descriptor back once it has (once, even when the
    // NIC refuses it here).
    m_lent_out[k] += r->count;
    const Result<void> sent = tx.send(tx.ctx, r->segs, r->count, reinterpret_cast<uint64_t>(r));
    if (sent) [[likely]] {
        ++m_stats[0].tx_sent;
        return true;
    }
    if (sent.error() == Error::Full) {  // still the mesh's: no lent_done comes
        m_lent_out[k] -= r->count;
        m_tx_retry[k] = r;
        ++m_stats[0].tx_waited;
        return false;
    }
    ++m_stats[0].tx_send_failed;
    return true;
}

uint32_t CoreMesh::settle_leaving(uint32_t core, mem::DmaHeap& heap) {
    // Not while the device may still read one of its frames (some may be
    // the owner's buffers it echoed in place): a later round.
    if (m_lent_out[core] != 0 || !m_tx[core].empty() || m_tx_retry[core] != nullptr) return 0;
    // The core touches nothing of the mesh until this is settled (leave()),
    // so the owner may act for it: drop what was handed to it and not taken,
    // and its list of buffers waiting for room on its give-back ring; all
    // are marked below.
    while (m_rx[core].try_pop() != nullptr) {
    }
    m_back_later[core] = nullptr;
    uint32_t n = 0;
    for (uint32_t w = 0; w < kLentMapWords; ++w) {
        for (uint64_t bits = m_lent_map[core][w]; bits != 0; bits &= bits - 1) {
            const uint64_t g = w * 64u + count_trailing_zeros(bits);
            auto* b = reinterpret_cast<mem::Buffer*>(const_cast<uint8_t*>(m_owner_base) + g * kLentGranule);
            // Whatever references the closed core counted on it are gone
            // with its heap: this one is the last.
            b->refs = 1;
            heap.release(b);
            ++n;
        }
        m_lent_map[core][w] = 0;
    }
    m_stats[0].rx_reclaimed += n;
    m_left[core].store(0, std::memory_order_release);
    return n;
}

void CoreMesh::lent_done(void* ctx, uint64_t tag) {
    auto* m = static_cast<CoreMesh*>(ctx);
    auto* r = reinterpret_cast<TxRequest*>(tag);
    m->m_lent_out[r->core] -= r->count;
    m->return_request(r);
}

void CoreMesh::return_request(TxRequest* r) {
    const uint32_t k = r->core;
    // No wake-up: core k looks at this ring before it sleeps, and a
    // sleeping core has no use for the buffers until it wakes.
    if (m_tx_later_count[k] == 0 && m_tx_done[k].try_push(r)) [[likely]] return;
    ++m_stats[0].tx_back_deferred;
    m_tx_later[k][m_tx_later_count[k]++] = r;  // never more than core k's kTxRequests
}

uint32_t CoreMesh::return_later(uint32_t core) {
    uint32_t n = 0;
    uint32_t& count = m_tx_later_count[core];
    while (count != 0 && m_tx_done[core].try_push(m_tx_later[core][count - 1])) {
        --count;
        ++n;
    }
    return n;
}

// ---- another core ----

mem::Buffer* CoreMesh::take_rx(uint32_t core) { return m_rx[core].try_pop(); }

Result<void> CoreMesh::hand_tx(uint32_t core, mem::DmaHeap& heap, const net::TxSegment* segs, uint32_t n) {
    TxRequest* r = m_free_requests[core];
    if (r == nullptr || n == 0 || n > net::kMaxTxSegments) [[unlikely]] {
        for (uint32_t i = 0; i < n; ++i) heap.release(segs[i].buf);
        if (r == nullptr) {
            ++m_stats[core].tx_full;
            return Error::Full;
        }
        ++m_stats[core].tx_dropped;
        return Error::InvalidArgument;
    }
    m_free_requests[core] = r->next_free;
    r->count = n;
    r->core = core;
    for (uint32_t i = 0; i < n; ++i) r->segs[i] = segs[i];
    // Never full: the ring holds every descriptor core `core` has.
    (void)m_tx[core].try_push(r);
    ++m_tx_out[core];
    ++m_stats[core].tx_handed;
    m_tx_unannounced[core] = true;  // the doorbell, if needed, at the end of the round (flush_tx)
    return {};
}

uint32_t CoreMesh::core_poll(uint32_t core, mem::DmaHeap& heap) {
    uint32_t n = 0;
    while (TxRequest* r = m_tx_done[core].try_pop()) {
        for (uint32_t i = 0; i < r->count; ++i) heap.release(r->segs[i].buf);
        free_request(core, r);
        ++m_stats[core].tx_returned;
        ++n;
    }
    bool gave = false;
    while (mem::Buffer* b = m_back_later[core]) {
        if (!m_back[core].try_push(b)) break;
        m_back_later[core] = b->next;
        gave = true;
        ++n;
    }
    if (gave) poke(core, 0);
    return n;
}

void CoreMesh::free_request(uint32_t core, TxRequest* r) {
    r->count = 0;
    r->next_free = m_free_requests[core];
    m_free_requests[core] = r;
    --m_tx_out[core];
}

void CoreMesh::give_back(void* ctx, mem::Buffer* b) {
    auto* port = static_cast<Port*>(ctx);
    CoreMesh& m = *port->mesh;
    const uint32_t k = port->core;
    // In order: behind what is already waiting (that ring was full).
    if (m.m_back_later[k] == nullptr && m.m_back[k].try_push(b)) {
        m.poke(k, 0);
        return;
    }
    b->next = nullptr;
    mem::Buffer** tail = &m.m_back_later[k];
    while (*tail != nullptr) tail = &(*tail)->next;
    *tail = b;
}

// ---- closing and coming back ----

void CoreMesh::leave(uint32_t core) {
    if (core == 0 || core >= kMeshCores) return;
    m_joined[core].store(0, std::memory_order_release);
    m_heaps[core] = nullptr;
    // After everything the core did (its give-backs, its hand-offs): the
    // owner settles it from here on (owner_poll). Only an owner that lends
    // buffers (track_lent: it drives the NIC, so it runs owner_poll) has
    // anything to settle; one that only serves storage would never do it.
    if (m_owner_base == nullptr) return;
    m_left[core].store(1, std::memory_order_release);
    poke(core, 0);
}

Result<void> CoreMesh::reclaim(uint32_t core) {
    if (core == 0 || core >= kMeshCores) return {};
    // Bounded: the owner settles the leaving (the frames handed to the
    // closed instance and the buffers it held go home), sends what is
    // queued on its next rounds and hands back what the device used; a
    // stuck owner makes this Busy, not a hang.
    constexpr uint32_t kTries = 1u << 20;
    for (uint32_t i = 0; leaving(core); ++i) {
        if (i == kTries) return Error::Busy;
        if ((i & 1023) == 0) poke(core, 0);
    }
    for (uint32_t i = 0; m_tx_out[core] != 0 && i < kTries; ++i) {
        while (TxRequest* r = m_tx_done[core].try_pop()) free_request(core, r);
        if (m_tx_out[core] != 0 && (i & 1023) == 0) poke(core, 0);
    }
    return m_tx_out[core] == 0 ? Result<void>() : Result<void>(Error::Busy);
}

// ---- storage requests ----

Result<void> CoreMesh::blk_forward(uint32_t core, BlkRequest* r) {
    if (!m_blk_req[core].try_push(r)) {
        ++m_stats[core].blk_dropped;
        return Error::WouldBlock;
    }
    ++m_stats[core].blk_forwarded;
    poke(core, 0);
    return {};
}

void CoreMesh::blk_complete(BlkRequest* r) {
    const uint32_t k = r->core;
    // Never full: it holds every descriptor core k has (kBlkRequests).
    (void)m_blk_done[k].try_push(r);
    ++m_stats[0].blk_served;
    poke(0, k);
}

// ---- sleeping ----

bool CoreMesh::pending_for(uint32_t core) const {
    if (core != 0) {
        return !m_rx[core].empty() || !m_tx_done[core].empty() || m_back_later[core] != nullptr ||
               !m_blk_done[core].empty();
    }
    for (uint32_t k = 1; k < m_cores; ++k) {
        if (!m_back[k].empty() || !m_tx[k].empty() || m_tx_retry[k] != nullptr || !m_blk_req[k].empty()) return true;
        if (m_left[k].load(std::memory_order_relaxed) != 0) return true;  // to settle
    }
    return false;
}

bool CoreMesh::ready_to_sleep(uint32_t core) {
    flush_tx(core);  // frames handed since the last poll wake the owner before we sleep
    m_sleeping[core].store(1, std::memory_order_relaxed);
    // Flag, then look: with poke()'s push-then-look, one of the two sides
    // sees the other (a store-load pair needs the full fence on each side).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!pending_for(core)) return true;
    m_sleeping[core].store(0, std::memory_order_relaxed);
    return false;
}

void CoreMesh::poke(uint32_t from, uint32_t to) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!m_sleeping[to].load(std::memory_order_relaxed)) return;
    if (m_sleeping[to].exchange(0, std::memory_order_relaxed) != 0 && m_wake != nullptr) m_wake(m_wake_ctx, from, to);
}

// ---- SteeringNic ----

Result<void> SteeringNic::start(mem::DmaHeap& heap) {
    m_heap = &heap;
    m_mesh.join(0, heap);
    return m_inner.start(heap);
}

uint32_t SteeringNic::poll(uint32_t max, net::FrameSink& sink) {
    uint32_t n = m_mesh.owner_poll(*m_heap, m_lent);
    if (m_rx_pending != nullptr) {
        for (uint32_t k = 1; k < m_mesh.cores(); ++k) {
            if (m_mesh.sleeping(k) && m_rx_pending(k)) m_poke |= 1u << k;
        }
    }
    m_sink = &sink;
    n += m_inner.poll(max, *this);
    for (uint32_t k = 1; m_poke != 0; ++k) {
        if (m_poke & (1u << k)) m_mesh.poke(0, k);
        m_poke &= ~(1u << k);
    }
    return n;
}

// The per-frame path calls nothing but its sink, in tail position, so it
// saves no register: an ARP reply (copied to the other cores first) and
// software steering go out of line. GCC would otherwise also guess that the
// sink may be this class again and unroll that guess into a loop
// (speculative devirtualization).
[[gnu::optimize("no-devirtualize-speculatively")]]
void SteeringNic::receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) {
    const uint8_t* frame = b->data() + offset;
    if (len >= 22 && be16(frame + 12) == kEtherArp && be16(frame + 20) == kArpReply) [[unlikely]] {
        return receive_arp_reply(b, offset, len, l4_checksum_verified);
    }
    if (m_device_steers) [[likely]] {  // RSS: every frame here is core 0's
        ++m_mesh.stats(0).rx_kept;
        return m_sink->receive(b, offset, len, l4_checksum_verified);
    }
    return steer(b, offset, len, l4_checksum_verified);
}

void SteeringNic::receive_arp_reply(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) {
    copy_arp_reply(b, offset, len);
    if (m_device_steers) {
        ++m_mesh.stats(0).rx_kept;
        m_sink->receive(b, offset, len, l4_checksum_verified);
        return;
    }
    steer(b, offset, len, l4_checksum_verified);
}

void SteeringNic::steer(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) {
    const uint8_t* frame = b->data() + offset;
    MeshCoreStats& st = m_mesh.stats(0);
    const uint32_t core = m_mesh.steering().core_for_frame(frame, len);
    if (core == 0 || core >= m_mesh.cores()) {
        ++st.rx_kept;
        m_sink->receive(b, offset, len, l4_checksum_verified);
        return;
    }
    if (!m_mesh.joined(core)) {
        ++st.rx_not_up;
        m_sink->receive(b, offset, len, l4_checksum_verified);
        return;
    }
    // The other core checks the checksums itself: it gets no verdict.
    if (!m_mesh.hand_rx(core, b, offset, len)) {
        ++st.rx_dropped;
        m_heap->release(b);
        return;
    }
    ++st.rx_handed;
    m_poke |= 1u << core;
}

void SteeringNic::copy_arp_reply(mem::Buffer* b, uint32_t offset, uint32_t len) {
    for (uint32_t k = 1; k < m_mesh.cores(); ++k) {
        if (!m_mesh.joined(k)) continue;
        auto c = m_heap->alloc(len);
        if (!c) {
            ++m_mesh.stats(0).arp_copy_failed;
            continue;
        }
        memcpy((*c)->data(), b->data() + offset, len);
        if (!m_mesh.hand_rx(k, *c, 0, len)) {
            ++m_mesh.stats(0).arp_copy_failed;
            m_heap->release(*c);
            continue;
        }
        ++m_mesh.stats(0).arp_copies;
        m_poke |= 1u << k;
    }
}

// ---- ForwardedNic ----

Result<void> ForwardedNic::start(mem::DmaHeap& heap) {
    m_heap = &heap;
    m_mesh.join(m_core, heap);
    return {};
}

Result<void> ForwardedNic::transmit(const net::TxSegment* segs, uint32_t n, const net::ChecksumRequest* csum) {
    (void)csum;  // offloads() offers none: lwIP fills every checksum in
    return m_mesh.hand_tx(m_core, *m_heap, segs, n);
}

uint32_t ForwardedNic::poll(uint32_t max, net::FrameSink& sink) {
    m_mesh.flush_tx(m_core);  // what the last round handed over, in one wake-up
    uint32_t n = m_mesh.core_poll(m_core, *m_heap);
    for (uint32_t i = 0; i < max; ++i) {
        mem::Buffer* b = m_mesh.take_rx(m_core);
        if (b == nullptr) break;
        ++m_mesh.stats(m_core).rx_forwarded;
        sink.receive(b, b->off, b->len, false);
        ++n;
    }
    return n;
}

// ---- PairNic ----

Result<void> PairNic::start(mem::DmaHeap& heap) {
    m_heap = &heap;
    m_mesh.join(m_core, heap);
    return m_inner.start(heap);
}

uint32_t PairNic::poll(uint32_t max, net::FrameSink& sink) {
    uint32_t n = m_mesh.core_poll(m_core, *m_heap);
    n += m_inner.poll(max, sink);
    while (mem::Buffer* b = m_mesh.take_rx(m_core)) {  // ARP replies, copied by core 0
        sink.receive(b, b->off, b->len, false);
        ++n;
    }
    return n;
}

}  // namespace ringlet::backend
