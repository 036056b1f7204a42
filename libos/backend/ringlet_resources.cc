// pdpix::acquire_resources() on Ringlet.
//
// One app, one set of devices: everything here lives in static storage and is
// shared by whatever the app opens.
//   - The platform: one RingletPlatform per app; every device registers its
//     SleepHook on its own notification bit (network 0, disk 1), so the core
//     sleeps until any of them (or a timer) needs it.
//   - The DMA region: physically contiguous frames mapped once; the libOS's
//     DMA heap (every demi_sgarray_t) lives in it, and both the NIC and the
//     disk translate buffer addresses with its physical base.
//   - "lwip" (the default when the machine has a virtio-net device): claims
//     the device, maps its registers and rings, binds its interrupt, and runs
//     lwIP over the virtio-net driver — no syscall on the data path, the wait
//     syscall only when the core has nothing to do. "loopback": in-process
//     queues (no device).
//   - Storage: the first virtio-blk device, claimed when the app opens a
//     storage queue (ringlet_demi_blk_open) and kept for the app's lifetime.
// Coroutine frames come from a page-aligned arena in .bss.
#include <string.h>

#include <new>

#include "drivers/virtio/net.h"
#include "libos/backend/blk_queue.h"
#include "libos/backend/device_grants.h"
#include "libos/backend/loopback.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/pdpix/resources.h"
#include "net/lwip/sys_glue.h"
#include "net/lwip_backend.h"
#include "net/virtio_nic.h"
#include "ringlet/cap_types.h"
#include "user/rt/syscall.h"

namespace ringlet::pdpix {

namespace {
constexpr size_t kFrameBytes = 512u << 10;
constexpr uint64_t kDmaPages = 1024;  // 4 MiB: one frame cap, physically contiguous
constexpr uint64_t kRingPages = 4;
constexpr uint16_t kQueueSize = 128;
constexpr uint32_t kNetNotifyBit = 0;
constexpr uint32_t kBlkNotifyBit = 1;
// Where the backend maps what the kernel grants (user half, away from the
// app; the disk's window is at 0x31_0000_0000, see blk_queue.cc).
constexpr uint64_t kDeviceVa = 0x3000000000ull;
constexpr uint64_t kRingVa = 0x3000100000ull;
constexpr uint64_t kDmaVa = 0x3001000000ull;

alignas(4096) unsigned char g_frames[kFrameBytes];
alignas(backend::LoopbackBackend) unsigned char g_loopback[sizeof(backend::LoopbackBackend)];
bool g_in_use;
backend::RingletPlatform g_platform;
virtio::DmaSpan g_dma;  // va == nullptr until mapped

// The DMA region, mapped on first use.
Result<virtio::DmaSpan> dma_region() {
    if (g_dma.va == nullptr) {
        const uint64_t pa = TRY(backend::map_contiguous(kDmaPages, kDmaVa));
        g_dma = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kDmaVa), pa, static_cast<uint32_t>(kDmaPages * 4096)};
    }
    return g_dma;
}

// The network: device, adapter and stack backend.
class Network final : public backend::SleepHook {
public:
    Result<void> open(uint64_t device_cap, uint64_t device_va, const virtio::DmaSpan& dma);
    bool before_sleep() override { return m_nic.arm_interrupts(); }
    // Lowers the device's line. The kernel lets the next interrupt in when
    // this core next waits for kNetNotifyBit (wait completes the delivered
    // interrupt: kernel/irq/irq_routing.h), so a wake-up costs no syscall.
    void after_wake() override { m_nic.on_interrupt(); }
    net::LwipBackend& backend() { return m_backend; }

private:
    virtio::NetDevice m_dev;
    net::VirtioNic m_nic{m_dev, reinterpret_cast<const uint8_t*>(kDmaVa), 0, 0};
    net::LwipBackend m_backend{g_platform};
};
alignas(Network) unsigned char g_network[sizeof(Network)];

Result<void> Network::open(uint64_t device_cap, uint64_t device_va, const virtio::DmaSpan& dma) {
    uint64_t ring_pa = TRY(backend::map_contiguous(kRingPages, kRingVa));
    m_nic.set_region(dma.va, dma.pa, dma.len);
    const uint32_t ring_bytes = virtio::Virtqueue::ring_bytes(kQueueSize);
    virtio::NetConfig cfg;
    cfg.window = virtio::MmioWindow(device_va);
    cfg.rx_ring = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa), ring_pa, ring_bytes};
    cfg.tx_ring = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa + 2 * 4096), ring_pa + 2 * 4096, ring_bytes};
    cfg.queue_size = kQueueSize;
    TRY(m_dev.init(cfg));  // checksum offload where offered (a tap backend; not QEMU user networking)
    user::printf("libos: virtio-net features offered 0x%lx, negotiated 0x%lx\n", m_dev.transport().device_features(),
                 m_dev.features());
    TRY(user::as_result(user::syscall(kSysIrqControl, device_cap, 1, kNetNotifyBit)));
    TRY(g_platform.add_sleep_hook(*this, kNetNotifyBit));
    net::NetConfig ip;  // QEMU user networking defaults: 10.0.2.15/24 via 10.0.2.2
    TRY(m_backend.add_interface(m_nic, ip));
    return {};
}

// Claims the first free virtio-net device; NotFound if the machine has none.
Result<Network*> open_network(const virtio::DmaSpan& dma) {
    backend::ClaimedDevice dev = TRY(backend::claim_virtio_device(backend::kVirtioNetId, kDeviceVa));
    // lwIP's assertion reports go to the console, not nowhere.
    net::set_report_hook([](const char* message) { user::printf("lwip: %s\n", message); });
    auto* network = new (g_network) Network();
    if (auto r = network->open(dev.cap, kDeviceVa, dma); !r) {
        user::printf("libos: virtio-net device %lu: %s\n", dev.index, error_name(r.error()));
        return r.error();
    }
    return network;
}

// The machine's virtio-blk device for storage queues, brought up on first
// open and kept (claimed, its hook registered) until the app exits.
class RingletStorage final : public Storage {
public:
    Result<BlockDevice*> open(rt::Executor& exec, mem::DmaHeap& heap) override {
        if (m_held) return Error::Busy;
        if (m_blk == nullptr) {
            const virtio::DmaSpan dma = TRY(dma_region());
            auto* blk = new (m_blk_storage) backend::BlkQueue();
            if (auto r = blk->open(dma, kBlkNotifyBit); !r) {
                if (r.error() != Error::NotFound) user::printf("libos: virtio-blk: %s\n", error_name(r.error()));
                blk->~BlkQueue();
                return r.error();
            }
            TRY(g_platform.add_sleep_hook(*blk, kBlkNotifyBit));
            m_blk = blk;
        }
        TRY(m_blk->start(exec, heap));
        m_held = true;
        return m_blk;
    }
    void close(BlockDevice* dev) override {
        if (dev != m_blk || !m_held) return;
        m_blk->stop_polling();
        m_held = false;
    }

private:
    alignas(backend::BlkQueue) unsigned char m_blk_storage[sizeof(backend::BlkQueue)];
    backend::BlkQueue* m_blk = nullptr;
    bool m_held = false;
};
RingletStorage g_storage;

}  // namespace

Result<Resources> acquire_resources(const char* name) {
    if (g_in_use) return Error::Busy;
    const bool want_lwip = name == nullptr || name[0] == '\0' || strcmp(name, "lwip") == 0;
    if (!want_lwip && strcmp(name, "loopback") != 0) return Error::NotFound;
    Resources r;
    r.frame_arena = g_frames;
    r.frame_bytes = kFrameBytes;
    const virtio::DmaSpan dma = TRY(dma_region());
    r.dma_region = dma.va;
    r.dma_bytes = dma.len;
    r.storage = &g_storage;
    r.platform = &g_platform;
    if (want_lwip) {
        auto network = open_network(dma);
        if (network) {
            user::print("libos: network up: lwIP over virtio-net, 10.0.2.15/24 via 10.0.2.2\n");
            r.backend = &(*network)->backend();
            g_in_use = true;
            return r;
        }
        if (name != nullptr && name[0] != '\0') return network.error();  // asked for it by name
        user::printf("libos: no network (%s): loopback backend\n", error_name(network.error()));
    }
    r.backend = new (g_loopback) backend::LoopbackBackend();
    g_in_use = true;
    return r;
}

void release_resources(Resources& r) {
    if (r.backend) r.backend->~Backend();
    g_in_use = false;
    r = Resources{};
}

}  // namespace ringlet::pdpix
