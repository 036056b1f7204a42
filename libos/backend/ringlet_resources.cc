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
//     path, the wait syscall only when the core has nothing to do. The
//     device's side lives in ringlet_network.cc (ringlet_network.h).
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
#include "libos/backend/close_order.h"
#include "libos/backend/core_mesh.h"
#include "libos/backend/device_grants.h"
#include "libos/backend/loopback.h"
#include "libos/backend/net_core.h"
#include "libos/backend/owner_upcall.h"
#include "libos/backend/ringlet_cores.h"
#include "libos/backend/ringlet_network.h"
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
constexpr uint64_t kPage = 4096;

uint64_t core_va(uint32_t core, uint64_t off) { return ringlet_core_va(core, off); }
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

// Another core's way to the network: a doorbell channel to core 0, and a
// ForwardedNic over the mesh (one queue pair) or its own pair (RSS).
Result<net::NicPort*> open_forwarded(uint32_t core) {
    Core& c = g_cores[core];
    TRY(open_channel(core));
    if (!ringlet_device_steers()) {
        TRY(hook_doorbell(core));
        return new (c.forwarded) backend::ForwardedNic(*g_mesh, core);
    }
    net::NicPort* port = TRY(ringlet_open_pair(core, c.dma, c.platform));
    c.doorbell_hooked = true;  // the pair's hook looks at the mesh too
    g_close_order.pin(core);   // its pair cannot be reset alone (close_order.h)
    return port;
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
            nic = ringlet_network_port(dma);
        } else if (ringlet_network_up() && g_mesh != nullptr && core < g_mesh->cores()) {
            nic = open_forwarded(core);
        }
        if (nic) {
            auto backend = open_stack(core, **nic);
            if (backend) {
                if (core == 0) user::print("libos: network up: lwIP over virtio-net, 10.0.2.15/24 via 10.0.2.2\n");
                // Every other core's frames or doorbells pass through core 0 (owner_upcall.h).
                if (core == 0 && g_mesh != nullptr) backend::arm_owner_upcall();
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
    if (r.core == 0 && g_mesh == nullptr) {
        if (net::VirtioNic* nic = ringlet_core_nic(0); nic != nullptr) {
            if (auto s = nic->stop(); !s) user::printf("libos: virtio-net: stop: %s\n", error_name(s.error()));
        }
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
    ringlet::net::VirtioNic* nic = ringlet_core_nic(this_core());
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
