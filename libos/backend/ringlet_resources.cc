// pdpix::acquire_resources() on Ringlet.
//
//   "lwip" (the default when the machine has a virtio-net device): claims the
//     device, maps its registers, allocates physically contiguous frames for
//     its rings and for the DMA heap, binds its interrupt to notification
//     bit 0, and runs lwIP over the virtio-net driver — no syscall on the data
//     path, the wait syscall only when the core has nothing to do.
//   "loopback": in-process queues (no device).
// Coroutine frames come from a page-aligned arena in .bss.
#include <string.h>

#include <new>

#include "drivers/virtio/net.h"
#include "libos/backend/device_grants.h"
#include "libos/backend/loopback.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/pdpix/resources.h"
#include "net/lwip_backend.h"
#include "net/virtio_nic.h"
#include "ringlet/cap_types.h"
#include "user/rt/syscall.h"

namespace ringlet::pdpix {

namespace {
constexpr size_t kFrameBytes = 512u << 10;
constexpr size_t kLoopbackDmaBytes = 2u << 20;
constexpr uint64_t kDmaPages = 1024;  // 4 MiB: one frame cap, physically contiguous
constexpr uint64_t kRingPages = 4;
constexpr uint16_t kQueueSize = 128;
constexpr uint64_t kNotifyBit = 0;
// Where the backend maps what the kernel grants (user half, away from the app).
constexpr uint64_t kDeviceVa = 0x3000000000ull;
constexpr uint64_t kRingVa = 0x3000100000ull;
constexpr uint64_t kDmaVa = 0x3001000000ull;

alignas(4096) unsigned char g_frames[kFrameBytes];
alignas(4096) unsigned char g_loopback_dma[kLoopbackDmaBytes];
alignas(backend::LoopbackBackend) unsigned char g_loopback[sizeof(backend::LoopbackBackend)];
bool g_in_use;

// The network: device, adapter, stack backend and the platform that sleeps.
class Network final : public backend::SleepHook {
public:
    Result<void> open(uint64_t device_cap, uint64_t device_va);
    bool before_sleep() override { return m_nic.arm_interrupts(); }
    void after_wake(uint64_t fired) override {
        if (!(fired & (1ull << kNotifyBit))) return;
        m_nic.on_interrupt();  // lowers the device's line first ...
        (void)user::syscall(kSysIrqControl, m_device_cap, 0, 0);  // ... then lets the next one in
    }
    net::LwipBackend& backend() { return m_backend; }
    uint8_t* dma_va() { return reinterpret_cast<uint8_t*>(kDmaVa); }

private:
    virtio::NetDevice m_dev;
    net::VirtioNic m_nic{m_dev, reinterpret_cast<const uint8_t*>(kDmaVa), 0, 0};
    backend::RingletPlatform m_platform{1ull << kNotifyBit};
    net::LwipBackend m_backend{m_platform};
    uint64_t m_device_cap = 0;
};
alignas(Network) unsigned char g_network[sizeof(Network)];

Result<void> Network::open(uint64_t device_cap, uint64_t device_va) {
    m_device_cap = device_cap;
    uint64_t ring_pa = TRY(backend::map_contiguous(kRingPages, kRingVa));
    uint64_t dma_pa = TRY(backend::map_contiguous(kDmaPages, kDmaVa));
    m_nic.set_region(reinterpret_cast<const uint8_t*>(kDmaVa), dma_pa, kDmaPages * 4096);
    const uint32_t ring_bytes = virtio::Virtqueue::ring_bytes(kQueueSize);
    virtio::NetConfig cfg;
    cfg.window = virtio::MmioWindow(device_va);
    cfg.rx_ring = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa), ring_pa, ring_bytes};
    cfg.tx_ring = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa + 2 * 4096), ring_pa + 2 * 4096, ring_bytes};
    cfg.queue_size = kQueueSize;
    cfg.checksum_offload = false;
    TRY(m_dev.init(cfg));
    TRY(user::as_result(user::syscall(kSysIrqControl, device_cap, 1, kNotifyBit)));
    m_platform.set_sleep_hook(this);
    net::NetConfig ip;  // QEMU user networking defaults: 10.0.2.15/24 via 10.0.2.2
    TRY(m_backend.add_interface(m_nic, ip));
    return {};
}

// Claims the first free virtio-net device; NotFound if the machine has none.
Result<Network*> open_network() {
    backend::ClaimedDevice dev = TRY(backend::claim_virtio_device(backend::kVirtioNetId, kDeviceVa));
    auto* network = new (g_network) Network();
    if (auto r = network->open(dev.cap, kDeviceVa); !r) {
        user::printf("libos: virtio-net device %lu: %s\n", dev.index, error_name(r.error()));
        return r.error();
    }
    return network;
}

}  // namespace

Result<Resources> acquire_resources(const char* name) {
    if (g_in_use) return Error::Busy;
    Resources r;
    r.frame_arena = g_frames;
    r.frame_bytes = kFrameBytes;
    bool want_lwip = name == nullptr || name[0] == '\0' || strcmp(name, "lwip") == 0;
    if (want_lwip) {
        auto network = open_network();
        if (network) {
            user::print("libos: network up: lwIP over virtio-net, 10.0.2.15/24 via 10.0.2.2\n");
            r.backend = &(*network)->backend();
            r.dma_region = (*network)->dma_va();
            r.dma_bytes = kDmaPages * 4096;
            g_in_use = true;
            return r;
        }
        if (name != nullptr && name[0] != '\0') return network.error();  // asked for it by name
        user::printf("libos: no network (%s): loopback backend\n", error_name(network.error()));
    } else if (strcmp(name, "loopback") != 0) {
        return Error::NotFound;
    }
    r.backend = new (g_loopback) backend::LoopbackBackend();
    r.dma_region = g_loopback_dma;
    r.dma_bytes = kLoopbackDmaBytes;
    g_in_use = true;
    return r;
}

void release_resources(Resources& r) {
    if (r.backend) r.backend->~Backend();
    g_in_use = false;
    r = Resources{};
}

}  // namespace ringlet::pdpix
