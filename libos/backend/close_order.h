// CloseOrder: which core of a spanning app may close its libOS when
// (ringlet_resources.cc; issue 14).
//
// Core 0 drives the devices for every core: it owns the NIC's queue pair
// over which the others' frames travel (core_mesh.h), binds the device's
// one interrupt line and serves the others' disk requests. So core 0
// closes last: its close is refused (Busy, nothing changed) while any
// other core is up, and once it has closed with a device it shared with
// them no core starts again — the device's rings still hold buffers of the
// closed heaps, and resetting a shared device takes every core. Alone on
// the NIC, core 0 resets it when it closes and sets it up again when it
// opens (net::VirtioNic::stop), so it may come back. A core that drives a queue pair of its own (RSS) cannot
// close either: virtio-mmio has no per-queue reset (VIRTIO_F_RING_RESET is
// PCI-only in QEMU 7.2), and a device-wide reset needs every pair's core
// (net/virtio_nic_recovery.h). A core that forwards through core 0 closes
// and comes back whenever it likes (CoreMesh::leave / reclaim).
//
// Core 0's close and another core's start race: core 0 raises `closing`
// and then looks at every core's `up`; a starting core raises its `up`
// and then looks at `closing`. Both sequentially consistent, so at least
// one sees the other — never both proceed. Core 0 backs out when it sees
// a core up; a starting core that sees core 0 closing waits for the
// outcome (start()).
// Every other field is written by its own core only.
#pragma once

#include <stdint.h>

#include <atomic>

#include "ringlet/result.h"

namespace ringlet::backend {

class CloseOrder {
public:
    static constexpr uint32_t kMaxCores = 8;

    // Core `core` starts its libOS. Busy if core 0 is closing or has
    // closed for good (see above); InvalidArgument beyond kMaxCores.
    Result<void> start(uint32_t core) {
        if (core >= kMaxCores) return Error::InvalidArgument;
        if (core == 0) {
            if (m_owner_closed.load(std::memory_order_acquire)) return Error::Busy;
            m_up[0].store(1, std::memory_order_relaxed);
            return {};
        }
        m_up[core].store(1, std::memory_order_seq_cst);
        // Core 0 is in close(): it either sees this core up and backs out,
        // or closes for good (or, with no device, lets cores start again).
        // A short wait on the control path, never on a fast one.
        while (m_closing.load(std::memory_order_seq_cst) != 0) {
            if (m_owner_closed.load(std::memory_order_acquire) != 0) {
                m_up[core].store(0, std::memory_order_relaxed);
                return Error::Busy;
            }
        }
        return {};
    }

    // Core `core` (started) drives a queue pair of its own from now on: it
    // may not close.
    void pin(uint32_t core) {
        if (core < kMaxCores) m_pinned[core] = true;
    }

    // Core `core` asks to close. Busy (nothing changed) if it may not now:
    // core 0 while another core is up, a pinned core ever. On success the
    // core must close and then call stopped(). `owns_device`: core 0
    // closes with a device the other cores shared, so nothing may start
    // after it.
    Result<void> close(uint32_t core, bool owns_device) {
        if (core >= kMaxCores) return Error::InvalidArgument;
        if (m_pinned[core]) return Error::Busy;
        if (core != 0) return {};  // up until stopped(): core 0 waits for its leaving
        m_closing.store(1, std::memory_order_seq_cst);
        for (uint32_t k = 1; k < kMaxCores; ++k) {
            if (m_up[k].load(std::memory_order_seq_cst) != 0) {
                m_closing.store(0, std::memory_order_seq_cst);
                return Error::Busy;
            }
        }
        m_up[0].store(0, std::memory_order_relaxed);
        if (owns_device) {
            m_owner_closed.store(1, std::memory_order_release);
        } else {
            m_closing.store(0, std::memory_order_seq_cst);  // nothing to tear down: core 0 may come back
        }
        return {};
    }

    // Core `core`'s libOS is gone: it closed (after close()), or its start
    // failed half-way (after start()).
    void stopped(uint32_t core) {
        if (core < kMaxCores) m_up[core].store(0, std::memory_order_release);
    }

    bool up(uint32_t core) const { return core < kMaxCores && m_up[core].load(std::memory_order_acquire) != 0; }

private:
    // 32-bit: rv64 has no 1-byte atomic exchange without libatomic.
    std::atomic<uint32_t> m_up[kMaxCores] = {};
    std::atomic<uint32_t> m_closing{0};       // core 0 is closing (or has closed for good)
    std::atomic<uint32_t> m_owner_closed{0};  // core 0 closed with a device open
    bool m_pinned[kMaxCores] = {};            // [k] written by core k only
};

}  // namespace ringlet::backend
