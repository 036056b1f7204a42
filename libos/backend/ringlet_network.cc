// The network device of a Ringlet app (issue 14): core 0 claims the first
// virtio-net device and brings it up - over one queue pair that it steers
// (core_mesh.h: SteeringNic), or, where the device offers multiqueue and
// takes the RSS table, with a queue pair per core that each core drives
// itself (PairNic) while core 0 holds the device's one interrupt line and
// rings the cores whose pair has frames. The per-core pieces it stands on
// (DMA regions, the mesh, doorbells, platforms) are ringlet_resources.cc's
// (ringlet_cores.h); what the resources take from here is ringlet_network.h.
#include "libos/backend/ringlet_network.h"

#include <new>

#include "drivers/virtio/net.h"
#include "drivers/virtio/net_control.h"
#include "libos/backend/core_mesh.h"
#include "libos/backend/device_grants.h"
#include "libos/backend/ringlet_cores.h"
#include "net/virtio_nic.h"
#include "net/virtio_nic_recovery.h"
#include "user/rt/syscall.h"

namespace ringlet::pdpix {
namespace {

constexpr uint32_t kCores = kRingletCores;
constexpr uint64_t kRingPages = 4;
constexpr uint16_t kQueueSize = 128;
constexpr uint64_t kPage = 4096;
// A core on its own queue pair sleeps at most this long. The pair's
// interrupt reaches it only through core 0's doorbell; when core 0's app
// code runs on, core 0's upcall rings it (owner_upcall.h, within 200-400
// us). The cap is the backstop for a core 0 that cannot run at all (its
// hart busy with another app): 10 wake-ups a second of an idle core (it was
// 10 ms, 100 a second, before the upcall; with only this cap a spinning
// core 0 left 2,313 of qemu.cores_mq_spin's 4,000 requests answered, with
// only the upcall 3,944).
constexpr uint64_t kPairMaxSleepNs = 100'000'000;

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
        if (!ringlet_mesh_if_any()->ready_to_sleep(m_core)) return false;
        if (m_nic.arm_interrupts()) return true;
        ringlet_mesh_if_any()->cancel_sleep(m_core);
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
    for (uint32_t k = 1; k < ringlet_mesh_if_any()->cores(); ++k) {
        if (ringlet_mesh_if_any()->sleeping(k) && pair_rx_pending(k)) ringlet_mesh_if_any()->poke(0, k);
    }
}

alignas(Network) unsigned char g_network[sizeof(Network)];
Network* g_net = nullptr;

Result<void> Network::open(uint64_t device_cap, uint64_t device_va, const virtio::DmaSpan& dma) {
    const uint32_t cores = ringlet_placed_cores();
    // Two ring pages per queue, a pair per core, then the control queue's.
    const uint64_t ring_pages = 2 * kRingPages * cores + 2;
    const uint64_t ring_pa = TRY(backend::map_contiguous(ring_pages, ringlet_core_va(0, kRingOff)));
    const uint64_t ring_va = ringlet_core_va(0, kRingOff);
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
        mesh = TRY(ringlet_mesh(cores));
        // Core 0's buffers lent to a core that closes come back (core_mesh.h).
        TRY(mesh->track_lent(dma.va, dma.len));
        for (uint32_t k = 1; k < cores; ++k) g_lent_regions[k - 1] = TRY(ringlet_dma_region(k));
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
    TRY(ringlet_add_sleep_hook(0, *this, kNetNotifyBit));
    if (mesh != nullptr) {
        mesh->set_mac(m_nic.mac());
        g_device_steers = mq->active_pairs() == cores && mq->rss_enabled();
        if (g_device_steers) {
            alignas(net::MqRecovery) static unsigned char recovery_storage[sizeof(net::MqRecovery)];
            g_mq_recovery = new (recovery_storage) net::MqRecovery(cores, &ringlet_ring_doorbell, nullptr);
            m_nic.join_recovery(*g_mq_recovery, 0);
        }
        m_steering = new (m_steering_storage)
            backend::SteeringNic(m_nic, *mesh, backend::LentTx{&send_lent, &m_nic}, g_device_steers,
                                 g_device_steers ? &pair_rx_pending : nullptr);
        TRY(ringlet_doorbell(0));
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

}  // namespace

Result<net::NicPort*> ringlet_network_port(const virtio::DmaSpan& dma) {
    if (g_net == nullptr) g_net = TRY(open_network(dma));
    return &g_net->port();
}

bool ringlet_network_up() { return g_net != nullptr; }

bool ringlet_device_steers() { return g_device_steers; }

Result<net::NicPort*> ringlet_open_pair(uint32_t core, const virtio::DmaSpan& dma, backend::RingletPlatform& platform) {
    // Its own queue pair: posted from, and sending from, this core's heap.
    // One hook on the doorbell bit arms the pair and the mesh together.
    PairCore& p = g_pair_cores[core];
    auto* nic = new (p.nic) net::VirtioNic(g_pair_dev[core], dma.va, dma.pa, dma.len);
    nic->join_recovery(*g_mq_recovery, core);
    g_pair_nic[core] = nic;
    auto* hook = new (p.hook) PairHook(*nic, core);
    TRY(platform.add_sleep_hook(*hook, kDoorbellBit));
    platform.set_max_sleep_ns(kPairMaxSleepNs);
    return new (p.port) backend::PairNic(*nic, *ringlet_mesh_if_any(), core);
}

net::VirtioNic* ringlet_core_nic(uint32_t core) {
    if (core == 0) return g_net != nullptr ? &g_net->nic() : nullptr;
    return core < kCores ? g_pair_nic[core] : nullptr;
}

}  // namespace ringlet::pdpix
