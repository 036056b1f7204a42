// CoreMesh: how the cores of one app share a single-queue NIC (issue 14's
// software steering; QEMU user networking has one queue pair).
//
// Core 0 owns the device. Its SteeringNic sits between the virtio driver
// and core 0's own network stack: each received frame is hashed with the
// same function RSS uses (net/flow_steering.h); frames of core 0's flows go
// to its stack, the others are handed to their core as the buffer pointer
// (SpscPtrRing, no copy): that core's ForwardedNic gives them to its own
// stack and its app pops them in place. The buffer still belongs to core
// 0's DMA heap: the receiving core's heap knows it as a peer's
// (DmaHeap::set_peers) and, when its last reference goes, passes it back
// over another ring, and core 0 frees it. Core 0 never touches a buffer's
// reference count while another core holds it, so counts need no atomics.
//
// TX from another core goes the other way, zero-copy too: a descriptor
// naming the frame's segments (built in place in the sending core's
// buffers, the virtio header's room in front; or in buffers of core 0 the
// core was lent and echoes back) is handed to core 0, which posts them to
// the device where they lie. Every core's DMA region is physically
// contiguous memory the kernel granted the app (device_grants.h) and there
// is no IOMMU, so the device reaches any of them: core 0's NIC learns the
// other cores' regions (net::VirtioNic::lend_tx) to turn their addresses
// into device addresses. When the device has used the frame (or it was
// refused or dropped by a reset) core 0 hands the descriptor back over the
// reverse ring and the sender drops the references into its own heap: core
// 0 never touches another core's reference counts or allocator. Bounded:
// core 0 posts at most kLentTxCap of one core's buffers (beyond that, or
// when the NIC's ring is full, the frame waits on core 0, ahead of that
// core's later ones, for a later round: tx_waited), and a descriptor whose
// return ring is full waits on core 0 for the next round (counted).
//
// A core that closes (demi shutdown; core 0 only last, close_order.h)
// leaves the mesh (leave()): nothing is handed to it any more, and its
// frames still queued or at the device are sent and their descriptors
// come back to its ring as usual. Its DMA region
// stays mapped for the app's lifetime, so the device never reads freed
// memory; before that core makes a new heap over the region (a second
// demi_init) it takes every descriptor back and drops their references
// unreleased (reclaim(): the old heap is gone), so nothing is ever
// returned into the new one. The owner's buffers the closed core still
// held (in its stack, its app, a frame it echoed in place, or handed to it
// and never taken) would be lost to the owner's heap: the owner marks each
// buffer it lends in a bitmap per core (track_lent()), and once a core has
// left and none of its frames is at the device any more, the owner frees
// every buffer still marked for it (rx_reclaimed) and the core may come
// back. A core that stops without closing simply leaves its descriptors on
// its ring.
//
// Flows a core opens itself (a TCP connect, an unbound UDP socket's first
// datagram) get a local port whose replies hash back to that core: each
// core has its own LocalPorts over this steering (net/local_ports.h),
// offered to its stack by its NicPort (local_ports()). With RSS the device
// hashes with the same key and table, so the same ports work there.
//
// Frames without a flow (ARP, ICMP, fragments) stay on core 0. An ARP
// reply is also copied to every other core, so each core's stack learns the
// gateway's address from the reply to its own request. A full ring drops
// the frame and counts it; no core ever waits for another. Each ring has
// one producer and one consumer core, so there is no lock anywhere.
//
// Sleeping: a core about to sleep raises its flag and looks at its rings
// once more; a core that has just pushed to a ring looks at the consumer's
// flag and, only if it is raised, rings its doorbell (a `Wake` callback:
// on Ringlet a channel notification, see ringlet_resources.cc).
//
// Storage uses the same mesh (blk_forward.h): a core without a virtio-blk
// request queue of its own hands each request (a BlkRequest naming bytes
// in its own DMA heap) to core 0 over its request ring; core 0 submits it
// on its queue and hands it back over the core's completion ring. A full
// request ring is refused (WouldBlock, counted), never waited on.
#pragma once

#include <stdint.h>

#include <atomic>

#include "libos/mem/dma_heap.h"
#include "libos/rt/executor.h"
#include "libos/rt/spsc_ring.h"
#include "net/flow_steering.h"
#include "net/local_ports.h"
#include "net/netif.h"

namespace ringlet::backend {

inline constexpr uint32_t kMeshCores = 4;
inline constexpr uint32_t kHandOffSlots = 256;
inline constexpr uint32_t kTxRequests = 128;  // frames a core may have out with the owner (queued or at the device)
// Another core's buffers the owner's TX ring may hold at once: half of
// virtio-net's 128 descriptors, so no one core can take the whole ring.
inline constexpr uint32_t kLentTxCap = 64;
// Sent frames' descriptors owner -> core: fewer slots than a core has
// descriptors, so a core that does not poll fills it and the owner keeps
// the rest for a later round (tx_back_deferred) - never lost.
inline constexpr uint32_t kTxDoneSlots = 64;
inline constexpr uint32_t kBlkRequests = 64;  // storage requests a core may have forwarded at once
// A core's storage request ring holds fewer than it may have in flight, so
// a burst the owner has not taken yet fills it (WouldBlock, counted); the
// completion ring holds them all, so the owner never finds it full.
inline constexpr uint32_t kBlkRingSlots = 32;
// The owner's DMA region the mesh can track lent buffers in (track_lent):
// one bit per 256-byte granule, per other core.
inline constexpr uint64_t kLentTrackBytes = 4u << 20;
inline constexpr uint64_t kLentGranule = 256;
inline constexpr uint32_t kLentMapWords = static_cast<uint32_t>(kLentTrackBytes / kLentGranule / 64);

// What one core's hand-off did (each written only by its core; another core
// may read them for a report).
struct MeshCoreStats {
    uint64_t rx_kept = 0;       // owner: frames its own stack got
    uint64_t rx_handed = 0;     // owner: frames handed to other cores
    uint64_t rx_dropped = 0;    // owner: that core's ring was full
    uint64_t rx_not_up = 0;     // owner: kept, the core they hash to is not up yet
    uint64_t rx_forwarded = 0;  // non-owner: frames received from the owner
    uint64_t arp_copies = 0;    // owner: ARP replies copied to other cores
    uint64_t tx_handed = 0;     // non-owner: frames given to the owner to send
    uint64_t tx_dropped = 0;    // non-owner: a frame the mesh cannot carry (no segment, or too many)
    uint64_t tx_full = 0;       // non-owner: refused, no descriptor free (all out with the owner) -
                                // backpressure: TCP keeps the segment and sends it again, a UDP push fails
    uint64_t tx_returned = 0;   // non-owner: frames the owner handed back (sent or not)
    uint64_t tx_sent = 0;       // owner: other cores' frames it posted, in place
    uint64_t arp_copy_failed = 0;  // owner: ARP replies it could not copy to a core (no heap buffer, ring full)
    uint64_t tx_send_failed = 0;   // owner: the NIC refused one (device down or broken, bad frame)
    uint64_t tx_copied_bytes = 0;  // owner: TX bytes the hand-off copied (0: frames go out in place)
    uint64_t tx_waited = 0;        // owner: frames held for a later round (NIC ring full, or their core had kLentTxCap buffers out)
    uint64_t tx_back_deferred = 0;  // owner: sent frames whose return ring was full (retried later)
    uint64_t blk_forwarded = 0;    // non-owner: storage requests handed to the owner
    uint64_t blk_dropped = 0;      // non-owner: refused (its request ring full, no descriptor)
    uint64_t blk_served = 0;       // owner: other cores' storage requests it completed
    uint64_t rx_reclaimed = 0;     // owner: its buffers a closed core still held, freed after it left
};

// A storage request another core hands to the owner (blk_forward.h). The
// first part is the request; status is the owner's answer; the rest is the
// requester's alone.
enum class BlkOp : uint8_t { Read, Write, Flush };
struct BlkRequest {
    BlkOp op = BlkOp::Read;
    uint64_t offset = 0;      // bytes, whole sectors
    uint8_t* data = nullptr;  // in the requester's DMA heap (nullptr for a flush)
    uint32_t len = 0;
    uint32_t core = 0;        // the requester
    Error status = Error::Ok;
    // The requester's: the buffer reference held until the request is back,
    // the task waiting, and whether that task is gone.
    mem::Buffer* buf = nullptr;
    rt::Waker waker;
    bool done = false;
    bool abandoned = false;
    BlkRequest* next_free = nullptr;
};

// A frame another core asks the owner to send: its segments, with the
// sender's references (the owner reads the bytes, never the counts).
struct TxRequest {
    net::TxSegment segs[net::kMaxTxSegments];
    uint32_t count = 0;
    uint32_t core = 0;  // the sender
    TxRequest* next_free = nullptr;
};

// How the owner sends another core's frame in place (on Ringlet
// net::VirtioNic::transmit_lent): `tag` names the frame, and the NIC calls
// CoreMesh::lent_done(mesh, tag) exactly once for it - when the device has
// used it, or at once if it is refused (then send also fails). Full is not a
// refusal: the ring has no room now, the frame stays the mesh's (no
// lent_done) and is posted again on a later round.
struct LentTx {
    Result<void> (*send)(void* ctx, const net::TxSegment* segs, uint32_t n, uint64_t tag) = nullptr;
    void* ctx = nullptr;
};

class CoreMesh {
public:
    using BufferRing = rt::SpscPtrRing<mem::Buffer, kHandOffSlots>;
    using RequestRing = rt::SpscPtrRing<TxRequest, kHandOffSlots>;
    using DoneRing = rt::SpscPtrRing<TxRequest, kTxDoneSlots>;
    using BlkRing = rt::SpscPtrRing<BlkRequest, kBlkRingSlots>;
    using BlkDoneRing = rt::SpscPtrRing<BlkRequest, kBlkRequests>;
    // Rings core `to`'s doorbell from core `from` (to is asleep).
    using Wake = void (*)(void* ctx, uint32_t from, uint32_t to);

    CoreMesh() = default;
    CoreMesh(const CoreMesh&) = delete;
    CoreMesh& operator=(const CoreMesh&) = delete;

    // Steers over `cores` (1..kMeshCores) with the default key; `mac` and
    // `tx_headroom` are the owner NIC's. Call on the owner before any other
    // core joins. InvalidArgument for a bad count.
    Result<void> init(uint32_t cores, net::MacAddress mac, uint32_t tx_headroom, Wake wake, void* wake_ctx);
    // The owner NIC's address, once known (after its device came up).
    void set_mac(net::MacAddress mac) { m_mac = mac; }
    uint32_t cores() const { return m_cores; }
    // Whether `core` has raised its sleeping flag (a hint, for the owner's
    // look at a sleeping core's own device queue).
    bool sleeping(uint32_t core) const { return m_sleeping[core].load(std::memory_order_relaxed) != 0; }
    const net::FlowSteering& steering() const { return m_steering; }
    // Core `core`'s chooser of local ports for the flows it opens: ports
    // whose replies this steering (and RSS, programmed from it) brings back
    // to that core. Used by that core alone.
    net::LocalPorts& local_ports(uint32_t core) { return m_local_ports[core]; }
    net::MacAddress mac() const { return m_mac; }
    uint32_t tx_headroom() const { return m_tx_headroom; }

    // The owner's DMA region [base, base + bytes): buffers lent from it are
    // marked per core, so those a closing core still holds go back to the
    // owner's heap (see above). Without it they stay lost. InvalidArgument
    // beyond kLentTrackBytes. Before any buffer is lent.
    Result<void> track_lent(const void* base, uint64_t bytes);
    // Core `core` starts with `heap` (its NicPort::start): its heap learns
    // the owner's as a peer, and from now on frames may be handed to it.
    void join(uint32_t core, mem::DmaHeap& heap);
    bool joined(uint32_t core) const { return m_joined[core].load(std::memory_order_acquire) != 0; }

    MeshCoreStats& stats(uint32_t core) { return m_stats[core]; }

    // Core `core` closes, after its stack and app are gone: frames are no
    // longer handed to it (its flows' frames stay on the owner, as before it
    // joined). Its descriptors out with the owner keep coming back to its
    // ring; the owner's buffers it still holds are the owner's again once
    // the owner has settled its leaving (owner_poll; only an owner that
    // lends, track_lent, has any to settle). Until it calls reclaim() the
    // core touches nothing of the mesh.
    void leave(uint32_t core);
    // Whether the owner has yet to settle `core`'s leaving.
    bool leaving(uint32_t core) const { return m_left[core].load(std::memory_order_acquire) != 0; }
    // Core `core`, before it makes a new heap over its DMA region: waits
    // (bounded) for the owner to settle its leaving, then takes back every
    // descriptor still out with the owner, dropping their references
    // unreleased (the heap they counted in is gone). Busy if the owner has
    // not settled or some frames are still at the device (try later).
    Result<void> reclaim(uint32_t core);

    // ---- the owner's side (core 0) ----
    // Hands frame b->data()[off, off + len) (one reference) to `core`:
    // false if its ring is full (the caller keeps b).
    bool hand_rx(uint32_t core, mem::Buffer* b, uint32_t off, uint32_t len);
    // Buffers other cores gave back (their last reference) go to `heap`,
    // and each queued TX request is sent in place through `tx` (in its
    // core's order; one that finds the NIC's ring full or its core at
    // kLentTxCap waits, with the core's later ones, for a later round); a
    // core that left is settled once none of its frames is at the device.
    // Returns how many it handled.
    uint32_t owner_poll(mem::DmaHeap& heap, const LentTx& tx);
    // LentTx's completion (ctx: the mesh): the frame `tag` is done with, its
    // descriptor goes back to its core. On the owner.
    static void lent_done(void* ctx, uint64_t tag);
    // Frames of `core` waiting on the owner: sent ones for room on its
    // return ring, and the next to send for room on the NIC's (post_lent).
    uint32_t tx_waiting(uint32_t core) const { return m_tx_later_count[core] + (m_tx_retry[core] != nullptr); }

    // ---- another core's side ----
    // The next frame handed to `core` (its offset and length in b->off and
    // b->len), or nullptr.
    mem::Buffer* take_rx(uint32_t core);
    // Queues a frame for the owner to send in place (takes over the
    // references of segs[0, n), which stay untouched until the frame comes
    // back): Full if `core` has no free descriptor (counted in tx_full: the
    // sender keeps or reports the frame), InvalidArgument for no segment or
    // more than kMaxTxSegments (tx_dropped); either way the references are
    // dropped through `heap`.
    Result<void> hand_tx(uint32_t core, mem::DmaHeap& heap, const net::TxSegment* segs, uint32_t n);
    // Drops the references of the frames the owner has handed back, and
    // gives back buffers whose return ring was full earlier. Returns how
    // many.
    uint32_t core_poll(uint32_t core, mem::DmaHeap& heap);
    // Rings the owner's doorbell once for the frames `core` handed it since
    // the last call, if it sleeps: one wake-up per batch, not per frame
    // (ForwardedNic::poll and ready_to_sleep call it).
    void flush_tx(uint32_t core) {
        if (!m_tx_unannounced[core]) return;
        m_tx_unannounced[core] = false;
        poke(core, 0);
    }
    // Descriptors `core` has out with the owner (that core's view).
    uint32_t tx_out(uint32_t core) const { return m_tx_out[core]; }

    // ---- storage requests (blk_forward.h) ----
    // Another core: hands r (r->core == core) to the owner; WouldBlock,
    // counted in blk_dropped, if the request ring is full.
    Result<void> blk_forward(uint32_t core, BlkRequest* r);
    // Another core: the next request the owner handed back, or nullptr.
    BlkRequest* blk_take_done(uint32_t core) { return m_blk_done[core].try_pop(); }
    // The owner: the next request from `core`, or nullptr.
    BlkRequest* blk_take(uint32_t core) { return m_blk_req[core].try_pop(); }
    // The owner: hands r back to its core with r->status set.
    void blk_complete(BlkRequest* r);
    // ---- sleeping (either side) ----
    // True if `core` may sleep now (nothing is queued for it); its flag
    // stays raised until someone rings it or it wakes.
    bool ready_to_sleep(uint32_t core);
    // Lowers `core`'s flag after ready_to_sleep() when something else (its
    // own device queue) says it must not sleep after all.
    void cancel_sleep(uint32_t core) { m_sleeping[core].store(0, std::memory_order_relaxed); }
    // Wakes `to` if it is asleep; call after pushing to one of its rings.
    void poke(uint32_t from, uint32_t to);

private:
    struct Port {
        CoreMesh* mesh;
        uint32_t core;
    };
    static void give_back(void* ctx, mem::Buffer* b);
    bool pending_for(uint32_t core) const;
    // The owner: marks / unmarks b as lent to `core` (track_lent).
    void mark_lent(uint32_t core, const mem::Buffer* b);
    void unmark_lent(uint32_t core, const mem::Buffer* b);
    // The owner: `core` has left; frees what it still held once nothing of
    // it is at the device. Returns the buffers freed.
    uint32_t settle_leaving(uint32_t core, mem::DmaHeap& heap);
    // The owner: r goes back to its core (or waits in m_tx_later if the
    // ring is full); then retries what waits.
    void return_request(TxRequest* r);
    // Posts core k's frame r in place through tx: false if it must wait
    // (kept in m_tx_retry[k], ahead of k's later frames).
    bool post_lent(uint32_t k, TxRequest* r, const LentTx& tx);
    uint32_t return_later(uint32_t core);
    // Core `core`: r is back (its references dropped by the caller).
    void free_request(uint32_t core, TxRequest* r);

    net::FlowSteering m_steering;
    net::LocalPorts m_local_ports[kMeshCores];
    uint32_t m_cores = 1;
    net::MacAddress m_mac{};
    uint32_t m_tx_headroom = 0;
    Wake m_wake = nullptr;
    void* m_wake_ctx = nullptr;
    mem::DmaHeap* m_heaps[kMeshCores] = {};  // [0] the owner's: every core's peer
    // 32-bit: rv64 has no 1-byte atomic exchange without libatomic.
    std::atomic<uint32_t> m_joined[kMeshCores] = {};
    std::atomic<uint32_t> m_sleeping[kMeshCores] = {};
    Port m_ports[kMeshCores] = {};
    MeshCoreStats m_stats[kMeshCores];
    // Per other core k: frames owner -> k, buffers given back k -> owner,
    // TX requests k -> owner and sent ones owner -> k.
    BufferRing m_rx[kMeshCores];
    BufferRing m_back[kMeshCores];
    RequestRing m_tx[kMeshCores];
    DoneRing m_tx_done[kMeshCores];
    // Per other core k: storage requests k -> owner and back.
    BlkRing m_blk_req[kMeshCores];
    BlkDoneRing m_blk_done[kMeshCores];
    // Core k's own: its descriptors, and buffers not yet given back (their
    // ring was full), linked through Buffer::next.
    TxRequest m_requests[kMeshCores][kTxRequests];
    TxRequest* m_free_requests[kMeshCores] = {};
    uint32_t m_tx_out[kMeshCores] = {};
    bool m_tx_unannounced[kMeshCores] = {};  // core k handed frames the owner was not told of yet
    mem::Buffer* m_back_later[kMeshCores] = {};
    // The owner's, per other core k: k's buffers at the device, and sent
    // descriptors whose return ring was full (at most all of k's).
    uint32_t m_lent_out[kMeshCores] = {};
    TxRequest* m_tx_retry[kMeshCores] = {};  // k's next frame, which found no room (post_lent)
    TxRequest* m_tx_later[kMeshCores][kTxRequests] = {};
    uint32_t m_tx_later_count[kMeshCores] = {};
    // Core k has left and the owner has not settled it yet (leave()).
    std::atomic<uint32_t> m_left[kMeshCores] = {};
    // The owner's: its DMA region, and per other core the granules of the
    // owner's buffers lent to it (a bit per buffer's first granule).
    const uint8_t* m_owner_base = nullptr;
    uint64_t m_owner_bytes = 0;
    uint64_t m_lent_map[kMeshCores][kLentMapWords] = {};
};

// A NicPort in front of another: the device's address and abilities.
class NicInFront : public net::NicPort {
public:
    explicit NicInFront(net::NicPort& inner) : m_inner(inner) {}
    net::MacAddress mac() const override { return m_inner.mac(); }
    uint16_t mtu() const override { return m_inner.mtu(); }
    uint32_t tx_headroom() const override { return m_inner.tx_headroom(); }
    net::NicOffloads offloads() const override { return m_inner.offloads(); }
    Result<void> transmit(const net::TxSegment* segs, uint32_t n, const net::ChecksumRequest* csum) override {
        return m_inner.transmit(segs, n, csum);
    }

protected:
    ~NicInFront() = default;
    net::NicPort& m_inner;
};

// Core 0's NicPort: the device's, with its received frames steered.
// With a multiqueue device whose RSS is programmed (`device_steers`) the
// device already put each flow on its core's own pair: core 0 then only
// copies ARP replies to the others, and - the device's one interrupt line
// being bound to core 0 - looks at each sleeping core's RX queue
// (`rx_pending`) every poll and rings that core's doorbell when frames wait.
// Other cores' frames go out in place through `lent` (LentTx).
class SteeringNic final : public NicInFront, private net::FrameSink {
public:
    using RxPending = bool (*)(uint32_t core);
    SteeringNic(net::NicPort& device, CoreMesh& mesh, LentTx lent, bool device_steers = false,
                RxPending rx_pending = nullptr)
        : NicInFront(device), m_mesh(mesh), m_lent(lent), m_device_steers(device_steers), m_rx_pending(rx_pending) {}
    Result<void> start(mem::DmaHeap& heap) override;
    uint32_t poll(uint32_t max, net::FrameSink& sink) override;
    net::LocalPorts* local_ports() override { return &m_mesh.local_ports(0); }

private:
    void receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) override;
    [[gnu::noinline]] void receive_arp_reply(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified);
    // Software steering of one frame: kept, or handed to its core.
    [[gnu::noinline]] void steer(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified);
    [[gnu::noinline]] void copy_arp_reply(mem::Buffer* b, uint32_t offset, uint32_t len);

    CoreMesh& m_mesh;
    LentTx m_lent;
    bool m_device_steers;
    RxPending m_rx_pending;
    mem::DmaHeap* m_heap = nullptr;
    net::FrameSink* m_sink = nullptr;
    uint32_t m_poke = 0;  // cores handed something this poll (bit mask)
};

// Another core's NicPort: frames from and to the owner, through the mesh.
class ForwardedNic final : public net::NicPort {
public:
    ForwardedNic(CoreMesh& mesh, uint32_t core) : m_mesh(mesh), m_core(core) {}
    net::MacAddress mac() const override { return m_mesh.mac(); }
    uint32_t tx_headroom() const override { return m_mesh.tx_headroom(); }
    Result<void> start(mem::DmaHeap& heap) override;
    Result<void> transmit(const net::TxSegment* segs, uint32_t n, const net::ChecksumRequest* csum) override;
    uint32_t poll(uint32_t max, net::FrameSink& sink) override;
    net::LocalPorts* local_ports() override { return &m_mesh.local_ports(m_core); }

private:
    CoreMesh& m_mesh;
    uint32_t m_core;
    mem::DmaHeap* m_heap = nullptr;
};

// Another core's NicPort with a multiqueue device: its own queue pair (a
// VirtioNic over it) for everything, plus the ARP replies core 0 copies to
// it and the give-back of their buffers.
class PairNic final : public NicInFront {
public:
    PairNic(net::NicPort& pair, CoreMesh& mesh, uint32_t core) : NicInFront(pair), m_mesh(mesh), m_core(core) {}
    Result<void> start(mem::DmaHeap& heap) override;
    uint32_t poll(uint32_t max, net::FrameSink& sink) override;
    net::LocalPorts* local_ports() override { return &m_mesh.local_ports(m_core); }

private:
    CoreMesh& m_mesh;
    uint32_t m_core;
    mem::DmaHeap* m_heap = nullptr;
};

}  // namespace ringlet::backend

// A core's hand-off counters (core_mesh.h), for apps that report them:
// 0, or ENOENT when the app does not share a NIC between cores.
extern "C" int ringlet_core_mesh_stats(unsigned core, ringlet::backend::MeshCoreStats* out);
