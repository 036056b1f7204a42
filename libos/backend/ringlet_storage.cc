// The Ringlet storage behind every core's PDPIX storage queue (issue 14):
// the machine's first virtio-blk device, brought up by core 0, with a
// request queue per core where the device offers them; every other core
// drives its own queue or forwards its requests to core 0 (blk_forward.h).
// The per-core pieces it stands on (DMA regions, the mesh, doorbells) are
// ringlet_resources.cc's (ringlet_cores.h).
#include <errno.h>

#include <atomic>
#include <new>

#include "libos/backend/blk_forward.h"
#include "libos/backend/blk_queue.h"
#include "libos/backend/ringlet_cores.h"
#include "libos/rt/libos_entry.h"
#include "user/rt/syscall.h"

namespace ringlet::pdpix {
namespace {

// The machine's virtio-blk device for storage queues, per core: core 0
// brings it up on its first open (one request queue per core the app was
// placed on, where the device offers them) and keeps it (claimed, its hook
// registered) until the app exits; each other core then drives its own
// queue or forwards to core 0 (blk_forward.h: blk_queue_for).
backend::BlkQueue g_blk[kRingletCores];  // [k]: queue k's driver (core k's)
bool blk_queue_pending(uint32_t core) { return g_blk[core].pending(); }

class RingletStorage final : public Storage {
public:
    Result<BlockDevice*> open(rt::Executor& exec, mem::DmaHeap& heap) override {
        const uint32_t core = ringlet_this_core();
        if (core >= kRingletCores) return Error::NotFound;
        PerCore& p = m_cores[core];
        if (p.held != nullptr) return Error::Busy;
        BlockDevice* dev = core == 0 ? TRY(open_owner(exec, heap)) : TRY(open_other(core, exec, heap));
        p.held = dev;
        return dev;
    }
    void close(BlockDevice* dev) override {
        const uint32_t core = ringlet_this_core();
        if (core >= kRingletCores || dev == nullptr || m_cores[core].held != dev) return;
        if (m_cores[core].forwarded != nullptr) {
            m_cores[core].forwarded->stop_polling();
        } else {
            g_blk[core].stop_polling();
        }
        if (core == 0 && m_server != nullptr) m_server->stop_polling();
        m_cores[core].held = nullptr;
    }
    // Core `core`'s counters (ringlet_blk_core_stats).
    Result<backend::BlkCoreStats> stats(uint32_t core) const {
        if (core >= kRingletCores || m_cores[core].held == nullptr) return Error::NotFound;
        backend::BlkCoreStats st;
        st.queues = g_blk[0].active_queues();
        if (m_cores[core].forwarded == nullptr) {
            st.queue = static_cast<int32_t>(g_blk[core].queue_index());
            st.submitted = g_blk[core].submitted();
        }
        if (backend::CoreMesh* mesh = ringlet_mesh_if_any(); mesh != nullptr && core < mesh->cores()) {
            const backend::MeshCoreStats& ms = mesh->stats(core);
            st.forwarded = ms.blk_forwarded;
            st.dropped = ms.blk_dropped;
            st.served = ms.blk_served;
        }
        if (core == 0 && m_server != nullptr) st.doorbells = m_server->doorbells();
        return st;
    }

private:
    struct PerCore {
        BlockDevice* held = nullptr;
        backend::ForwardedBlock* forwarded = nullptr;
        alignas(backend::ForwardedBlock) unsigned char storage[sizeof(backend::ForwardedBlock)];
    };

    Result<BlockDevice*> open_owner(rt::Executor& exec, mem::DmaHeap& heap) {
        backend::BlkQueue& blk = g_blk[0];
        if (!m_up.load(std::memory_order_relaxed)) {
            const uint32_t cores = ringlet_placed_cores();
            const virtio::DmaSpan dma = TRY(ringlet_dma_region(0));
            backend::BlkQueue* more[kRingletCores] = {};
            for (uint32_t k = 1; k < cores; ++k) more[k] = &g_blk[k];
            if (auto r = blk.open(dma, kBlkNotifyBit, static_cast<uint16_t>(cores), more); !r) {
                if (r.error() != Error::NotFound) user::printf("libos: virtio-blk: %s\n", error_name(r.error()));
                return r.error();
            }
            TRY(ringlet_add_sleep_hook(0, blk, kBlkNotifyBit));
            blk.set_recovery_wake(&ringlet_ring_doorbell, nullptr);  // multiqueue resets: notes between cores
            if (cores > 1) {
                // Other cores reach core 0 (forwarding, doorbells) through the mesh.
                backend::CoreMesh* mesh = TRY(ringlet_mesh(cores));
                TRY(ringlet_doorbell(0));
                m_server = new (m_server_storage) backend::BlkForwardServer(
                    *mesh, blk, blk.active_queues() > 1 ? &blk_queue_pending : nullptr);
                user::printf("libos: virtio-blk: %u request queue%s for %u cores (device offers %u)%s\n",
                             blk.active_queues(), blk.active_queues() == 1 ? "" : "s", cores, blk.device_queues(),
                             blk.active_queues() < cores ? ": the others forward to core 0" : "");
            }
            m_up.store(true, std::memory_order_release);
        }
        TRY(blk.start(exec, heap));
        if (m_server != nullptr) {
            if (auto r = m_server->start(exec); !r) {
                blk.stop_polling();
                return r.error();
            }
        }
        return &blk;
    }

    Result<BlockDevice*> open_other(uint32_t core, rt::Executor& exec, mem::DmaHeap& heap) {
        // Core 0 brings the device up (it holds the device's interrupt and
        // every doorbell): until it has, ask again later.
        if (!m_up.load(std::memory_order_acquire)) return Error::WouldBlock;
        backend::CoreMesh* mesh = ringlet_mesh_if_any();
        if (mesh == nullptr || core >= mesh->cores()) return Error::NotFound;  // not a placed core
        const virtio::DmaSpan dma = TRY(ringlet_dma_region(core));
        TRY(ringlet_doorbell(core));  // first: it raises the sleep flag before the queue is armed
        PerCore& p = m_cores[core];
        backend::BlkQueue& own = g_blk[0];
        if (backend::blk_queue_for(core, own.active_queues()) >= 0) {
            backend::BlkQueue& blk = g_blk[core];
            if (!m_queue_hooked[core]) {
                TRY(blk.open_queue(dma));
                TRY(ringlet_add_sleep_hook(core, blk, kBlkNotifyBit));
                m_queue_hooked[core] = true;
            }
            TRY(blk.start(exec, heap));
            return &blk;
        }
        // Written before the first request can reach core 0 (the ring's
        // release/acquire orders it).
        own.set_peer_region(core, dma);
        if (p.forwarded == nullptr) {
            p.forwarded = new (p.storage) backend::ForwardedBlock(*mesh, core, own.capacity_bytes(), own.read_only());
        }
        TRY(p.forwarded->start(exec, heap));
        return p.forwarded;
    }

    PerCore m_cores[kRingletCores];
    bool m_queue_hooked[kRingletCores] = {};
    std::atomic<bool> m_up{false};
    alignas(backend::BlkForwardServer) unsigned char m_server_storage[sizeof(backend::BlkForwardServer)];
    backend::BlkForwardServer* m_server = nullptr;
};
RingletStorage g_storage;

}  // namespace

Storage& ringlet_storage() { return g_storage; }

}  // namespace ringlet::pdpix

extern "C" int ringlet_blk_core_stats(unsigned core, ringlet::backend::BlkCoreStats* out) {
    ringlet::rt::LibosEntry in_libos;
    if (out == nullptr) return EINVAL;
    auto st = ringlet::pdpix::g_storage.stats(core);
    if (!st) return ENOENT;
    *out = *st;
    return 0;
}

// A test hook (blkcheck cores-reset): the calling core's storage queue
// acts as if the disk had asked for a reset. 0, or ENOENT if the core
// drives no virtio-blk queue.
extern "C" int ringlet_blk_inject_fault(void) {
    ringlet::rt::LibosEntry in_libos;
    using namespace ringlet::pdpix;
    const uint32_t core = ringlet_this_core();
    if (core >= kRingletCores || !g_blk[core].is_open()) return ENOENT;
    g_blk[core].inject_fault();
    return 0;
}
