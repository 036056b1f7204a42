#include "kernel/cap/cap_syscalls.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/smp/hart_local.h"
#include "kernel/smp/mailbox.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {
namespace {

// The machine's capabilities, under g_caps_lock (see CapsGuard).
SpinLock g_caps_lock;
CapSpace g_caps;

// Devices apps may claim, from the FDT; `claimed` is under g_caps_lock.
struct Claimable {
    uint64_t base, size;
    uint32_t irq;
    bool claimed;
};
Claimable g_devices[BootInfo::kMaxVirtio];
size_t g_device_count;

constexpr uint64_t kFrameQuotaPages = 8192;  // 32 MiB per app

// CapSpace's remove hook: undo the node's mapping, and for a root its object.
void on_cap_removed(const CapNode& node, void*) {
    if (node.map_root) {
        if (auto r = arch::unmap(node.map_root, node.map_va, node.size); !r)
            panic("on_cap_removed: unmap %p: %s", reinterpret_cast<void*>(node.map_va), error_name(r.error()));
        if (auto r = shootdown_tlbs(); !r) panic("on_cap_removed: TLB shootdown: %s", error_name(r.error()));
    }
    if (!node.owns_object) return;
    if (node.type == kCapFrame) {
        if (auto r = frames().free(node.base, node.size / layout::kPageSize); !r)
            panic("on_cap_removed: free frames: %s", error_name(r.error()));
    } else if (node.type == kCapDevice) {
        for (size_t i = 0; i < g_device_count; ++i)
            if (g_devices[i].base == node.base) g_devices[i].claimed = false;
    }
}

uint16_t table_of(const Dispatcher& d) { return static_cast<uint16_t>(d.cap_table); }

Result<uint64_t> frame_alloc(Dispatcher& d, const FrameAllocRequest& req) {
    if (d.frames_used + req.pages > kFrameQuotaPages) return Error::OutOfMemory;
    // Every frame cap is physically contiguous: a DMA ring or buffer can use it as is.
    uint64_t pa = TRY(frames().alloc(req.pages));
    __builtin_memset(reinterpret_cast<void*>(arch::phys_to_virt(pa)), 0, req.pages * layout::kPageSize);
    auto cap = g_caps.insert_root(table_of(d), kCapFrame, kRightAll, pa, req.pages * layout::kPageSize);
    if (!cap) {
        (void)frames().free(pa, req.pages);
        return cap.error();
    }
    d.frames_used += req.pages;
    return *cap;
}

Result<uint64_t> frame_map(Dispatcher& d, const FrameMapRequest& req) {
    CapNode* node = req.cap.node;
    TRY(d.space.map(req.va, node->base, node->size, req.perm));
    node->map_root = d.space.root();
    node->map_va = req.va;
    return 0;
}

Result<uint64_t> frame_unmap(const CapRequest& req) {
    CapNode* node = req.cap.node;
    TRY(arch::unmap(node->map_root, node->map_va, node->size));
    node->map_root = 0;
    TRY(shootdown_tlbs());
    return 0;
}

Result<uint64_t> cap_delete(Dispatcher& d, const CapRequest& req) {
    const CapNode* node = req.cap.node;
    if (node->owns_object && node->type == kCapFrame) d.frames_used -= node->size / layout::kPageSize;
    TRY(g_caps.remove(table_of(d), req.cap.index));
    return 0;
}

Result<uint64_t> device_claim(Dispatcher& d, const DeviceClaimRequest& req) {
    Claimable& dev = g_devices[req.index];
    if (dev.claimed) return Error::Busy;
    uint32_t rights = kRightRead | kRightWrite | kRightMap | kRightGrant;
    CapIndex cap = TRY(g_caps.insert_root(table_of(d), kCapDevice, rights, dev.base, dev.size, dev.irq));
    dev.claimed = true;
    return cap;
}

Result<uint64_t> irq_control(Dispatcher& d, const IrqControlRequest& req) {
    HartLocal& local = *arch::hart_local();
    if (req.op == IrqOp::Bind) TRY(bind_irq(local, d, req.device.node->irq, req.bit));
    else TRY(ack_irq(local, d, req.device.node->irq));
    return 0;
}

}  // namespace

CapsGuard::CapsGuard() {
    while (!g_caps_lock.try_lock()) drain_mailbox();
    static bool hooked = false;  // under the lock
    if (!hooked) {
        g_caps.set_remove_hook(on_cap_removed, nullptr);
        hooked = true;
    }
}
CapsGuard::~CapsGuard() { g_caps_lock.unlock(); }
CapSpace& CapsGuard::caps() { return g_caps; }

void set_claimable_devices(const BootInfo& info) {
    g_device_count = info.virtio_count;
    for (size_t i = 0; i < info.virtio_count; ++i) {
        uint64_t base = info.virtio[i].base & ~(layout::kPageSize - 1);
        uint64_t end = (info.virtio[i].base + info.virtio[i].size + layout::kPageSize - 1) & ~(layout::kPageSize - 1);
        g_devices[i] = Claimable{base, end - base, info.virtio[i].irq, false};
    }
}

size_t claimable_device_count() { return g_device_count; }

Result<uint64_t> invoke_cap_syscall(Dispatcher& d, const SyscallRequest& req) {
    const uint16_t table = table_of(d);
    switch (req.number) {
    case kSysCapIdentify: {
        const CapNode* node = req.cap.cap.node;
        return static_cast<uint64_t>(node->type) | static_cast<uint64_t>(node->rights) << 8 |
               (node->size / layout::kPageSize) << 32;
    }
    case kSysCapMint: return g_caps.mint(table, req.mint.cap.index, req.mint.rights);
    case kSysCapDelete: return cap_delete(d, req.cap);
    case kSysCapRevoke: TRY(g_caps.revoke(table, req.cap.cap.index)); return 0;
    case kSysFrameAlloc: return frame_alloc(d, req.frame_alloc);
    case kSysFrameMap: return frame_map(d, req.frame_map);
    case kSysFrameUnmap: return frame_unmap(req.cap);
    case kSysFramePhys: return req.cap.cap.node->base;
    case kSysDeviceClaim: return device_claim(d, req.device_claim);
    case kSysIrqControl: return irq_control(d, req.irq);
    default: return Error::Unsupported;
    }
}

void release_caps(Dispatcher& d) {
    CapsGuard guard;
    guard.caps().clear_table(table_of(d));
    d.frames_used = 0;
}

}  // namespace ringlet
