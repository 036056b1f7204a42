// pdpix::acquire_resources() on Ringlet: one libOS instance per core.
//
// Each core of an app (user/rt/cores.h) that calls demi_init gets its own
// executor, frame arena, DMA heap region, queue tables, platform (the
// notification bits it sleeps on) and network stack (one lwIP copy per
// core: net_core.h). Core 0 - the first core to call demi_init, which must
// be the app's first - takes the devices:
//   - "lwip" (the default when the machine has a virtio-net device): claims
//     the device, maps its registers and rings, binds its interrupt (bit 0),
//     and runs lwIP over the virtio-net driver - no syscall on the data
//     path, the wait syscall only when the core has nothing to do.
//     "loopback": in-process queues (no device).
//   - Storage: the first virtio-blk device, claimed when core 0 opens a
//     storage queue (ringlet_demi_blk_open; its interrupt on bit 1), with a
//     request queue per core where the device offers them (num-queues);
//     another core then opens its own queue, or - a single-queue disk, or
//     more cores than queues - forwards its requests to core 0 over the
//     mesh (blk_forward.h). Other cores open theirs after core 0 did.
//     That part lives in ringlet_storage.cc (ringlet_cores.h: what it
//     takes from here).
// When the app runs on several harts (init=NAME@0-3, app_harts) and the NIC
// has one queue pair, core 0 steers the received frames to the cores their
// flows hash to and sends the others' frames in place (core_mesh.h); each other core
// runs its own lwIP over a ForwardedNic, with the same addresses and MAC,
// and sleeps on a doorbell (bit 2: a channel between it and core 0, used
// only for its notifications).
// Core 0's coroutine frames come from a page-aligned arena in .bss; the
// other cores map theirs when they start, so an app that never spans
// carries nothing for them.
#include <errno.h>
#include <string.h>

#include <atomic>
#include <new>

#include "drivers/virtio/net.h"
#include "drivers/virtio/net_control.h"
#include "libos/backend/close_order.h"
#include "libos/backend/core_mesh.h"
#include "libos/backend/device_grants.h"
#include "libos/backend/loopback.h"
#include "libos/backend/net_core.h"
#include "libos/backend/owner_upcall.h"
#include "libos/backend/ringlet_cores.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/pdpix/libos.h"
#include "libos/pdpix/resources.h"
#include "libos/rt/libos_entry.h"
#include "net/checksum.h"
#include "net/virtio_nic.h"
#include "ringlet/cap_types.h"
#include "user/rt/cores.h"
#include "user/rt/syscall.h"

namespace ringlet::pdpix {

namespace {
static_assert(backend::kMeshCores == backend::kNetCores, "one stack copy per core that may share the NIC");
constexpr uint32_t kCores = kRingletCores;
constexpr size_t kFrameBytes = 512u << 10;
constexpr uint64_t kDmaPages = 1024;        // core 0: 4 MiB (it posts the RX ring)
constexpr uint64_t kOtherDmaPages = 512;    // the others: 2 MiB
static_assert(kDmaPages * 4096 <= backend::kLentTrackBytes, "the mesh tracks every buffer core 0 lends");
constexpr uint64_t kRingPages = 4;
constexpr uint16_t kQueueSize = 128;
constexpr uint64_t kPage = 4096;
// Where the backend maps what the kernel grants (user half, away from the
// app; the disk's window is at 0x31_0000_0000, see blk_queue.cc): one
// 256 MiB window per core.
constexpr uint64_t kCoreVa = 0x3000000000ull;
constexpr uint64_t kCoreStride = 0x10000000ull;
constexpr uint64_t kDeviceVa = kCoreVa;  // core 0's window only
constexpr uint64_t kRingOff = 0x100000;
constexpr uint64_t kDmaOff = 0x1000000;
constexpr uint64_t kLwipOff = 0x2000000;
constexpr uint64_t kFramesOff = 0x3000000;
constexpr uint64_t kLibOsOff = 0x4000000;
constexpr uint64_t kMeshOff = 0x5000000;
// A core on its own queue pair sleeps at most this long (the pair's
// interrupt reaches it only through core 0's doorbell): the most a core 0
// that stopped polling - its app task spinning - delays the others' flows.
// 100 wake-ups a second of an idle core, ~1,500 instructions each.
constexpr uint64_t kPairMaxSleepNs = 10'000'000;

uint64_t core_va(uint32_t core, uint64_t off) { return kCoreVa + core * kCoreStride + off; }
uint64_t pages_for(uint64_t bytes) { return (bytes + kPage - 1) / kPage; }

// A core's doorbell: lets it sleep only when nothing is queued for it; on
// core 0 it also binds core 0's end of each other core's channel first, so
// their notifications reach it.
class Doorbell final : public backend::SleepHook {
public:
    bool before_sleep() override;
    void after_wake() override {}
    uint32_t core = 0;
};

struct Core {
    backend::RingletPlatform platform;
    Doorbell doorbell;
    virtio::DmaSpan dma;  // va == nullptr until mapped
    void* lwip_heap = nullptr;
    void* frames = nullptr;
    void* libos = nullptr;
    bool in_use = false;
    bool doorbell_hooked = false;
    std::atomic<uint64_t> channel{0};  // k >= 1: its doorbell channel cap (0: none yet)
    bool owner_bound = false;          // core 0 holds the other end (core 0 writes it)
    alignas(backend::ForwardedNic) unsigned char forwarded[sizeof(backend::ForwardedNic)];
    alignas(backend::LoopbackBackend) unsigned char loopback[sizeof(backend::LoopbackBackend)];
};

alignas(4096) unsigned char g_frames[kFrameBytes];
Core g_cores[kCores];
std::atomic<uint32_t> g_next_core{0};
thread_local int32_t t_core = -1;
backend::CoreMesh* g_mesh = nullptr;  // set by core 0 before any other core starts
// Who may close when (close_order.h): core 0 last, a core on its own pair
// never, nothing after core 0 closed a NIC the cores shared.
backend::CloseOrder g_close_order;

uint32_t this_core() {
    if (t_core < 0) t_core = static_cast<int32_t>(g_next_core.fetch_add(1, std::memory_order_relaxed));
    return static_cast<uint32_t>(t_core);
}

// The harts the app was asked to run on: how many cores steering spreads over.
uint32_t placed_cores() {
    uint64_t harts = user::placement_harts();
    uint32_t n = 0;
    for (; harts != 0; harts &= harts - 1) ++n;
    if (n == 0) n = 1;
    return n < kCores ? n : kCores;
}

void report(const char* message) { user::printf("lwip: %s\n", message); }

Result<void*> map_memory(uint32_t core, uint64_t off, uint64_t bytes) {
    TRY(backend::map_contiguous(pages_for(bytes), core_va(core, off)));
    return reinterpret_cast<void*>(core_va(core, off));
}

// The core's DMA region, mapped on first use.
Result<virtio::DmaSpan> dma_region(uint32_t core) {
    Core& c = g_cores[core];
    if (c.dma.va == nullptr) {
        const uint64_t pages = core == 0 ? kDmaPages : kOtherDmaPages;
        const uint64_t pa = TRY(backend::map_contiguous(pages, core_va(core, kDmaOff)));
        c.dma = virtio::DmaSpan{reinterpret_cast<uint8_t*>(core_va(core, kDmaOff)), pa,
                                static_cast<uint32_t>(pages * kPage)};
    }
    return c.dma;
}

bool Doorbell::before_sleep() {
    if (g_mesh == nullptr) return true;
    if (core == 0) {
        for (uint32_t k = 1; k < g_mesh->cores(); ++k) {
            Core& c = g_cores[k];
            const uint64_t ch = c.channel.load(std::memory_order_acquire);
            if (c.owner_bound || ch == 0) continue;
            c.owner_bound = user::as_result(user::syscall(kSysChannelControl, ch, 1, kDoorbellBit)).ok();
        }
    }
    return g_mesh->ready_to_sleep(core);
}

// CoreMesh::Wake: notify the channel between core 0 and the other core.
void ring_doorbell(void*, uint32_t from, uint32_t to) {
    Core& c = g_cores[from == 0 ? to : from];
    const uint64_t ch = c.channel.load(std::memory_order_acquire);
    if (ch == 0) return;
    if (from == 0 && !c.owner_bound) {
        c.owner_bound = user::as_result(user::syscall(kSysChannelControl, ch, 1, kDoorbellBit)).ok();
    }
    (void)user::syscall(kSysChannelControl, ch, 0);
    ++backend::t_sleep_stats.doorbells;  // the ringing core's
}

Result<void> hook_doorbell(uint32_t core) {
    Core& c = g_cores[core];
    if (c.doorbell_hooked) return {};
    c.doorbell.core = core;
    TRY(c.platform.add_sleep_hook(c.doorbell, kDoorbellBit));
    c.doorbell_hooked = true;
    return {};
}

// The mesh between core 0 and the others (core_mesh.h): the network's
// steering and the disk's forwarding. Mapped (~120 KiB) only when the app
// spans; made by core 0 before any other core starts.
Result<backend::CoreMesh*> ensure_mesh(uint32_t cores) {
    if (g_mesh != nullptr) return g_mesh;
    void* mem = TRY(map_memory(0, kMeshOff, sizeof(backend::CoreMesh)));
    auto* mesh = new (mem) backend::CoreMesh();
    TRY(mesh->init(cores, net::MacAddress{}, virtio::NetDevice::kHeaderBytes, &ring_doorbell, nullptr));
    g_mesh = mesh;
    return mesh;
}

// Another core's doorbell: a channel to core 0, bound to kDoorbellBit.
Result<void> open_channel(uint32_t core) {
    Core& c = g_cores[core];
    if (c.channel.load(std::memory_order_relaxed) != 0) return {};
    const uint64_t frame = TRY(user::as_result(user::frame_alloc(2)));
    const uint64_t ch = TRY(user::as_result(user::syscall(kSysChannelCreate, frame)));
    TRY(user::as_result(user::syscall(kSysChannelControl, ch, 1, kDoorbellBit)));
    c.channel.store(ch, std::memory_order_release);
    return {};
}

// With a multiqueue device: pair k's driver (set up by core 0 through
// NetMultiQueue, then driven by core k alone) and core k's adapter over it.
virtio::NetDevice g_pair_dev[kCores];
bool g_device_steers = false;  // RSS took every core's pair: no software steering
// With every core on its own pair, a misbehaving device is reset by all of
// them together (net/virtio_nic_recovery.h), by notes and doorbells.
net::MqRecovery* g_mq_recovery = nullptr;
net::VirtioNic* g_pair_nic[kCores];  // core k's adapter over its own pair, once it opened it

bool pair_rx_pending(uint32_t core) { return g_pair_dev[core].rx_pending(); }

// The other cores' DMA regions, which core 0's NIC sends their frames from
// in place (core_mesh.h). Mapped by core 0 before any other core starts,
// then never changed: the kernel grants them physically contiguous and the
// device, with no IOMMU, reaches them as it reaches core 0's.
virtio::DmaSpan g_lent_regions[kCores];
Result<void> send_lent(void* nic, const net::TxSegment* segs, uint32_t n, uint64_t tag) {
    return static_cast<net::VirtioNic*>(nic)->transmit_lent(segs, n, tag);
}

// Another core's own pair: armed before the core sleeps. Its interrupt goes
// to core 0, which holds the device's one line and rings this core's
// doorbell (bit 2) when the pair has frames (SteeringNic::poll).
class PairHook final : public backend::SleepHook {
public:
    explicit PairHook(net::VirtioNic& nic, uint32_t core) : m_nic(nic), m_core(core) {}
    // Flag first, then arm: core 0 looks at a sleeping core's RX ring only
    // once the flag is up (SteeringNic::poll), so a frame landing after the
    // arm's last look raises the line with the flag already visible and
    // core 0 rings this core's doorbell. Armed first, a frame in between
    // would be seen by neither side and wait for the next interrupt.
    bool before_sleep() override {
        if (!g_mesh->ready_to_sleep(m_core)) return false;
        if (m_nic.arm_interrupts()) return true;
        g_mesh->cancel_sleep(m_core);
        return false;
    }
    void after_wake() override { m_nic.on_interrupt(); }

private:
    net::VirtioNic& m_nic;
    uint32_t m_core;
};

struct PairCore {
    alignas(net::VirtioNic) unsigned char nic[sizeof(net::VirtioNic)];
    alignas(backend::PairNic) unsigned char port[sizeof(backend::PairNic)];
    alignas(PairHook) unsigned char hook[sizeof(PairHook)];
};
PairCore g_pair_cores[kCores];

// The network device, its adapter, and core 0's steering over it.
class Network final : public backend::SleepHook {
public:
    Result<void> open(uint64_t device_cap, uint64_t device_va, const virtio::DmaSpan& dma);
    bool before_sleep() override { return m_nic.arm_interrupts(); }
    // Lowers the device's line. The kernel lets the next interrupt in when
    // this core next waits for kNetNotifyBit (wait completes the delivered
    // interrupt: kernel/irq/irq_routing.h), so a wake-up costs no syscall.
    // With a pair per core the line is core 0's for every pair: each
    // sleeping core whose pair has frames is rung here, at once.
    void after_wake() override;
    // Core 0 was woken for other cores' pairs only: its own RX ring is
    // empty and no reset is under way (what else there is, arming finds
    // before it sleeps again).
    bool woke_for_nothing() override {
        return g_device_steers && !m_dev.rx_pending() && !m_nic.reset_pending() && !m_nic.broken() &&
               !g_mq_recovery->has_mail(0);
    }
    net::NicPort& port() { return m_steering != nullptr ? static_cast<net::NicPort&>(*m_steering) : m_nic; }
    net::VirtioNic& nic() { return m_nic; }

private:
    virtio::NetDevice m_dev;
    net::VirtioNic m_nic{m_dev, nullptr, 0, 0};
    alignas(backend::SteeringNic) unsigned char m_steering_storage[sizeof(backend::SteeringNic)];
    backend::SteeringNic* m_steering = nullptr;
};
void Network::after_wake() {
    m_nic.on_interrupt();
    if (!g_device_steers) return;
    for (uint32_t k = 1; k < g_mesh->cores(); ++k) {
        if (g_mesh->sleeping(k) && pair_rx_pending(k)) g_mesh->poke(0, k);
    }
}

alignas(Network) unsigned char g_network[sizeof(Network)];
Network* g_net = nullptr;

Result<void> Network::open(uint64_t device_cap, uint64_t device_va, const virtio::DmaSpan& dma) {
    const uint32_t cores = placed_cores();
    // Two ring pages per queue, a pair per core, then the control queue's.
    const uint64_t ring_pages = 2 * kRingPages * cores + 2;
    const uint64_t ring_pa = TRY(backend::map_contiguous(ring_pages, core_va(0, kRingOff)));
    const uint64_t ring_va = core_va(0, kRingOff);
    auto ring_span = [&](uint64_t page, uint32_t bytes) {
        return virtio::DmaSpan{reinterpret_cast<uint8_t*>(ring_va + page * kPage), ring_pa + page * kPage, bytes};
    };
    m_nic.set_region(dma.va, dma.pa, dma.len);
    const uint32_t ring_bytes = virtio::Virtqueue::ring_bytes(kQueueSize);
    virtio::NetConfig cfg;
    cfg.window = virtio::MmioWindow(device_va);
    cfg.rx_ring = ring_span(0, ring_bytes);
    cfg.tx_ring = ring_span(2, ring_bytes);
    cfg.queue_size = kQueueSize;
    backend::CoreMesh* mesh = nullptr;
    virtio::NetMultiQueue* mq = nullptr;
    if (cores > 1) {
        // The cores share the device (core_mesh.h). Its steering is what
        // RSS is programmed with, so the device and the software agree.
        mesh = TRY(ensure_mesh(cores));
        // Core 0's buffers lent to a core that closes come back (core_mesh.h).
        TRY(mesh->track_lent(dma.va, dma.len));
        for (uint32_t k = 1; k < cores; ++k) g_lent_regions[k - 1] = TRY(dma_region(k));
        m_nic.lend_tx(g_lent_regions, cores - 1, &backend::CoreMesh::lent_done, mesh);
        static virtio::NetDevice* devices[kCores];
        static virtio::NetPairRings rings[kCores];
        for (uint32_t k = 1; k < cores; ++k) {
            devices[k] = &g_pair_dev[k];
            rings[k].rx_ring = ring_span(2 * kRingPages * k, ring_bytes);
            rings[k].tx_ring = ring_span(2 * kRingPages * k + 2, ring_bytes);
        }
        virtio::NetMultiQueue::Config mc;
        mc.pairs = static_cast<uint16_t>(cores);
        mc.devices = devices;
        mc.rings = rings;
        mc.control_ring = ring_span(2 * kRingPages * cores, virtio::NetMultiQueue::control_ring_bytes());
        mc.control_buffer = ring_span(2 * kRingPages * cores + 1, virtio::NetMultiQueue::kControlBufferBytes);
        mc.rss.key = mesh->steering().key();
        mc.rss.key_len = net::kRssKeyBytes;
        mc.rss.table = mesh->steering().table();
        mc.rss.table_len = net::kSteeringTableEntries;
        alignas(virtio::NetMultiQueue) static unsigned char mq_storage[sizeof(virtio::NetMultiQueue)];
        mq = new (mq_storage) virtio::NetMultiQueue(mc);
        cfg.multiqueue = mq;
    }
    TRY(m_dev.init(cfg));  // checksum offload where offered (a tap backend; not QEMU user networking)
    user::printf("libos: virtio-net features offered 0x%lx, negotiated 0x%lx\n", m_dev.transport().device_features(),
                 m_dev.features());
    TRY(user::as_result(user::syscall(kSysIrqControl, device_cap, 1, kNetNotifyBit)));
    TRY(g_cores[0].platform.add_sleep_hook(*this, kNetNotifyBit));
    if (mesh != nullptr) {
        mesh->set_mac(m_nic.mac());
        g_device_steers = mq->active_pairs() == cores && mq->rss_enabled();
        if (g_device_steers) {
            alignas(net::MqRecovery) static unsigned char recovery_storage[sizeof(net::MqRecovery)];
            g_mq_recovery = new (recovery_storage) net::MqRecovery(cores, &ring_doorbell, nullptr);
            m_nic.join_recovery(*g_mq_recovery, 0);
        }
        m_steering = new (m_steering_storage)
            backend::SteeringNic(m_nic, *mesh, backend::LentTx{&send_lent, &m_nic}, g_device_steers,
                                 g_device_steers ? &pair_rx_pending : nullptr);
        TRY(hook_doorbell(0));
        if (g_device_steers) {
            user::printf("libos: %u queue pairs with RSS: each core its own, the device steers\n", cores);
        } else {
            user::printf("libos: one queue pair for %u cores (%s): core 0 steers by flow hash\n", cores,
                         mq->status_text());
        }
    }
    return {};
}

// Claims the first free virtio-net device; NotFound if the machine has none.
Result<Network*> open_network(const virtio::DmaSpan& dma) {
    backend::ClaimedDevice dev = TRY(backend::claim_virtio_device(backend::kVirtioNetId, kDeviceVa));
    auto* network = new (g_network) Network();
    if (auto r = network->open(dev.cap, kDeviceVa, dma); !r) {
        user::printf("libos: virtio-net device %lu: %s\n", dev.index, error_name(r.error()));
        return r.error();
    }
    return network;
}

// Another core's way to the network: a doorbell channel to core 0, and a
// ForwardedNic over the mesh (one queue pair) or its own pair (RSS).
Result<net::NicPort*> open_forwarded(uint32_t core) {
    Core& c = g_cores[core];
    TRY(open_channel(core));
    if (!g_device_steers) {
        TRY(hook_doorbell(core));
        return new (c.forwarded) backend::ForwardedNic(*g_mesh, core);
    }
    // Its own queue pair: posted from, and sending from, this core's heap.
    // One hook on the doorbell bit arms the pair and the mesh together.
    PairCore& p = g_pair_cores[core];
    const virtio::DmaSpan dma = c.dma;
    auto* nic = new (p.nic) net::VirtioNic(g_pair_dev[core], dma.va, dma.pa, dma.len);
    nic->join_recovery(*g_mq_recovery, core);
    g_pair_nic[core] = nic;
    auto* hook = new (p.hook) PairHook(*nic, core);
    TRY(c.platform.add_sleep_hook(*hook, kDoorbellBit));
    c.platform.set_max_sleep_ns(kPairMaxSleepNs);
    c.doorbell_hooked = true;  // the pair's hook looks at the mesh too
    g_close_order.pin(core);   // its pair cannot be reset alone (close_order.h)
    return new (p.port) backend::PairNic(*nic, *g_mesh, core);
}


// This core's memory beyond the DMA region: core 0's frames are in .bss and
// its LibOs in demi_init's slot; the others map theirs on first use.
Result<void> map_core_memory(uint32_t core) {
    Core& c = g_cores[core];
    if (c.lwip_heap == nullptr) c.lwip_heap = TRY(map_memory(core, kLwipOff, backend::kLwipHeapBytes));
    if (core == 0) {
        c.frames = g_frames;
        return {};
    }
    if (c.frames == nullptr) c.frames = TRY(map_memory(core, kFramesOff, kFrameBytes));
    if (c.libos == nullptr) c.libos = TRY(map_memory(core, kLibOsOff, sizeof(LibOs)));
    return {};
}

// This core's network stack over `nic`.
Result<Backend*> open_stack(uint32_t core, net::NicPort& nic) {
    backend::NetCoreConfig cfg;
    cfg.platform = &g_cores[core].platform;
    cfg.nic = &nic;
    cfg.lwip_heap = g_cores[core].lwip_heap;
    cfg.report = &report;
    return backend::open_net_core(core, cfg);
}

}  // namespace

// ---- ringlet_cores.h: what the storage (ringlet_storage.cc) takes from here ----

uint32_t ringlet_this_core() { return this_core(); }
uint32_t ringlet_placed_cores() { return placed_cores(); }
Result<virtio::DmaSpan> ringlet_dma_region(uint32_t core) { return dma_region(core); }
Result<backend::CoreMesh*> ringlet_mesh(uint32_t cores) { return ensure_mesh(cores); }
backend::CoreMesh* ringlet_mesh_if_any() { return g_mesh; }
void ringlet_ring_doorbell(void* ctx, uint32_t from, uint32_t to) { ring_doorbell(ctx, from, to); }

Result<void> ringlet_doorbell(uint32_t core) {
    if (core != 0) TRY(open_channel(core));
    return hook_doorbell(core);
}

Result<void> ringlet_add_sleep_hook(uint32_t core, backend::SleepHook& hook, uint32_t bit) {
    return g_cores[core].platform.add_sleep_hook(hook, bit);
}

namespace {

Result<Resources> acquire_core(uint32_t core, const char* name) {
    Core& c = g_cores[core];
    // A core coming back after a close: its old frames' descriptors first,
    // before a new heap is made over the same region (core_mesh.h).
    if (core != 0 && g_mesh != nullptr) TRY(g_mesh->reclaim(core));
    const bool want_lwip = name == nullptr || name[0] == '\0' || strcmp(name, "lwip") == 0;
    if (!want_lwip && strcmp(name, "loopback") != 0) return Error::NotFound;
    TRY(map_core_memory(core));
    // This core's checksums use the vector unit where its hart has one.
    net::set_vector_checksum((user::hart_features() & kHartFeatureVector) != 0);
    Resources r;
    r.core = core;
    r.frame_arena = c.frames;
    r.frame_bytes = kFrameBytes;
    r.libos_memory = c.libos;
    const virtio::DmaSpan dma = TRY(dma_region(core));
    r.dma_region = dma.va;
    r.dma_bytes = dma.len;
    r.storage = &ringlet_storage();
    r.platform = &c.platform;
    if (want_lwip) {
        Result<net::NicPort*> nic = Error::NotFound;
        if (core == 0) {
            if (g_net == nullptr) {
                auto network = open_network(dma);
                if (network) g_net = *network;
                else nic = network.error();
            }
            if (g_net != nullptr) nic = &g_net->port();
        } else if (g_net != nullptr && g_mesh != nullptr && core < g_mesh->cores()) {
            nic = open_forwarded(core);
        }
        if (nic) {
            auto backend = open_stack(core, **nic);
            if (backend) {
                if (core == 0) user::print("libos: network up: lwIP over virtio-net, 10.0.2.15/24 via 10.0.2.2\n");
                // Over one queue pair every core's frames pass through core 0 (owner_upcall.h).
                if (core == 0 && g_mesh != nullptr && !g_device_steers) backend::arm_owner_upcall();
                r.backend = *backend;
                c.in_use = true;
                return r;
            }
            nic = backend.error();
        }
        if (name != nullptr && name[0] != '\0') return nic.error();  // asked for it by name
        user::printf("libos: core %u: no network (%s): loopback backend\n", core, error_name(nic.error()));
    }
    r.backend = new (c.loopback) backend::LoopbackBackend();
    c.in_use = true;
    return r;
}

}  // namespace

Result<Resources> acquire_resources(const char* name) {
    const uint32_t core = this_core();
    if (core >= kCores) return Error::Full;
    if (g_cores[core].in_use) return Error::Busy;
    TRY(g_close_order.start(core));
    auto r = acquire_core(core, name);
    if (!r) g_close_order.stopped(core);
    return r;
}

Result<void> begin_release(const Resources& r) {
    // Alone on the NIC, core 0 resets it when it closes (release_resources)
    // and sets it up again when it opens; with other cores sharing its
    // devices (the mesh: their frames, their disk requests) that would take
    // every core: nothing opens after core 0 then.
    const bool owns_shared_device = r.core == 0 && g_mesh != nullptr;
    if (auto may = g_close_order.close(r.core, owns_shared_device); !may) {
        user::printf("libos: core %u may not close now (%s): %s\n", r.core, error_name(may.error()),
                     r.core == 0 ? "core 0 drives the devices for the other cores and closes last"
                                 : "it drives its own queue pair of the NIC until the app ends");
        return may;
    }
    return {};
}

void release_resources(Resources& r) {
    if (r.core == 0) backend::disarm_owner_upcall();
    if (r.backend) r.backend->~Backend();
    if (r.core == 0 && g_net != nullptr && g_mesh == nullptr) {
        if (auto s = g_net->nic().stop(); !s) user::printf("libos: virtio-net: stop: %s\n", error_name(s.error()));
    }
    if (r.core != 0 && g_mesh != nullptr) g_mesh->leave(r.core);
    if (r.core < kCores) g_cores[r.core].in_use = false;
    g_close_order.stopped(r.core);  // closed, or a demi_init that failed half-way
    r = Resources{};
}

}  // namespace ringlet::pdpix

// A test hook (echo --nic-fault-after): the calling core's NIC behaves as
// if the device had broken a ring, so its next poll resets the device (with
// every core, on a multiqueue device). 0, or ENOENT if the core drives no
// virtio-net queue.
extern "C" int ringlet_nic_inject_fault(void) {
    ringlet::rt::LibosEntry in_libos;
    using namespace ringlet::pdpix;
    const uint32_t core = this_core();
    ringlet::net::VirtioNic* nic = nullptr;
    if (core == 0 && g_net != nullptr) nic = &g_net->nic();
    if (core != 0 && core < kCores) nic = g_pair_nic[core];
    if (nic == nullptr) return ENOENT;
    nic->inject_fault();
    return 0;
}

extern "C" int ringlet_core_mesh_stats(unsigned core, ringlet::backend::MeshCoreStats* out) {
    ringlet::rt::LibosEntry in_libos;
    using ringlet::pdpix::g_mesh;
    if (g_mesh == nullptr || out == nullptr || core >= g_mesh->cores()) return ENOENT;
    *out = g_mesh->stats(core);
    return 0;
}
