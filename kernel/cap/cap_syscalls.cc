#include "kernel/cap/cap_syscalls.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/cap/cap_space.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/smp/hart_local.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/map_perm.h"
#include "kernel/panic.h"
#include "kernel/smp/mailbox.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {
namespace {

// The machine's capabilities. Any hart may change them (control plane);
// g_caps_lock serializes that. A hart waiting for the lock keeps serving its
// mailbox, because the holder may be waiting for this hart's TLB-flush ack.
SpinLock g_caps_lock;
CapSpace g_caps;
bool g_hook_installed;

// Devices apps may claim, from the FDT; `claimed` is under g_caps_lock.
struct Claimable {
    uint64_t base, size;
    uint32_t irq;
    bool claimed;
};
Claimable g_devices[BootInfo::kMaxVirtio];
size_t g_device_count;

constexpr uint64_t kFrameQuotaPages = 8192;  // 32 MiB per app
constexpr uint64_t kMaxAllocPages = 1024;    // 4 MiB per frame cap

class CapsGuard {
public:
    CapsGuard() {
        while (!g_caps_lock.try_lock()) drain_mailbox();
    }
    ~CapsGuard() { g_caps_lock.unlock(); }
};

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

Result<uint64_t> frame_alloc(Dispatcher& d, uint64_t pages, uint64_t flags) {
    if (pages == 0 || pages > kMaxAllocPages || (flags & ~uint64_t{kFrameContiguous})) return Error::InvalidArgument;
    if (d.frames_used + pages > kFrameQuotaPages) return Error::OutOfMemory;
    // Every frame cap is physically contiguous: a DMA ring or buffer can use it as is.
    uint64_t pa = TRY(frames().alloc(pages));
    __builtin_memset(reinterpret_cast<void*>(arch::phys_to_virt(pa)), 0, pages * layout::kPageSize);
    auto cap = g_caps.insert_root(table_of(d), kCapFrame, kRightAll, pa, pages * layout::kPageSize);
    if (!cap) {
        (void)frames().free(pa, pages);
        return cap.error();
    }
    d.frames_used += pages;
    return *cap;
}

Result<uint64_t> frame_map(Dispatcher& d, CapIndex cap, uint64_t va, uint64_t perm) {
    CapNode* node = TRY(g_caps.lookup(table_of(d), cap, kCapNull, kRightMap));
    if (perm & ~uint64_t{kMapRead | kMapWrite | kMapExec} || !(perm & (kMapRead | kMapWrite))) return Error::InvalidArgument;
    uint32_t need = ((perm & kMapRead) ? kRightRead : 0u) | ((perm & kMapWrite) ? kRightWrite : 0u) |
                    ((perm & kMapExec) ? kRightExec : 0u);
    if ((node->rights & need) != need) return Error::NoRights;
    if (node->type == kCapDevice && (perm & kMapExec)) return Error::InvalidArgument;  // never run MMIO
    if (node->map_root) return Error::Busy;  // one mapping per cap: mint another to map twice
    TRY(d.space.map(va, node->base, node->size, static_cast<uint32_t>(perm)));
    node->map_root = d.space.root();
    node->map_va = va;
    return 0;
}

Result<uint64_t> frame_unmap(Dispatcher& d, CapIndex cap) {
    CapNode* node = TRY(g_caps.lookup(table_of(d), cap, kCapNull, 0));
    if (!node->map_root) return Error::NotFound;
    TRY(arch::unmap(node->map_root, node->map_va, node->size));
    node->map_root = 0;
    TRY(shootdown_tlbs());
    return 0;
}

Result<uint64_t> device_claim(Dispatcher& d, uint64_t index) {
    if (index >= g_device_count) return Error::NotFound;
    Claimable& dev = g_devices[index];
    if (dev.claimed) return Error::Busy;
    uint32_t rights = kRightRead | kRightWrite | kRightMap | kRightGrant;
    CapIndex cap = TRY(g_caps.insert_root(table_of(d), kCapDevice, rights, dev.base, dev.size, dev.irq));
    dev.claimed = true;
    return cap;
}

}  // namespace

void set_claimable_devices(const BootInfo& info) {
    g_device_count = info.virtio_count;
    for (size_t i = 0; i < info.virtio_count; ++i) {
        uint64_t base = info.virtio[i].base & ~(layout::kPageSize - 1);
        uint64_t end = (info.virtio[i].base + info.virtio[i].size + layout::kPageSize - 1) & ~(layout::kPageSize - 1);
        g_devices[i] = Claimable{base, end - base, info.virtio[i].irq, false};
    }
}

Result<uint64_t> cap_syscall(Dispatcher& d, uint64_t number, const uint64_t (&a)[6]) {
    CapsGuard guard;
    if (!g_hook_installed) {
        g_caps.set_remove_hook(on_cap_removed, nullptr);
        g_hook_installed = true;
    }
    const uint16_t table = table_of(d);
    switch (number) {
    case kSysCapIdentify: {
        CapNode* node = TRY(g_caps.lookup(table, a[0], kCapNull, 0));
        return static_cast<uint64_t>(node->type) | static_cast<uint64_t>(node->rights) << 8 |
               (node->size / layout::kPageSize) << 32;
    }
    case kSysCapMint:
        if (a[1] & ~uint64_t{kRightAll}) return Error::InvalidArgument;
        return g_caps.mint(table, a[0], static_cast<uint32_t>(a[1]));
    case kSysCapDelete: {
        CapNode* node = TRY(g_caps.lookup(table, a[0], kCapNull, 0));
        if (node->owns_object && node->type == kCapFrame) d.frames_used -= node->size / layout::kPageSize;
        TRY(g_caps.remove(table, a[0]));
        return 0;
    }
    case kSysCapRevoke: TRY(g_caps.revoke(table, a[0])); return 0;
    case kSysFrameAlloc: return frame_alloc(d, a[0], a[1]);
    case kSysFrameMap: return frame_map(d, a[0], a[1], a[2]);
    case kSysFrameUnmap: return frame_unmap(d, a[0]);
    case kSysFramePhys: {
        CapNode* node = TRY(g_caps.lookup(table, a[0], kCapNull, kRightDma));
        return node->base;
    }
    case kSysDeviceClaim: return device_claim(d, a[0]);
    case kSysIrqControl: {
        CapNode* node = TRY(g_caps.lookup(table, a[0], kCapDevice, 0));
        HartLocal& local = *arch::hart_local();
        if (a[1] == 1) TRY(bind_irq(local, d, node->irq, static_cast<uint32_t>(a[2])));
        else if (a[1] == 0) TRY(ack_irq(local, d, node->irq));
        else return Error::InvalidArgument;
        return 0;
    }
    default: return Error::Unsupported;
    }
}

void release_caps(Dispatcher& d) {
    CapsGuard guard;
    if (!g_hook_installed) {
        g_caps.set_remove_hook(on_cap_removed, nullptr);
        g_hook_installed = true;
    }
    g_caps.clear_table(table_of(d));
    d.frames_used = 0;
}

}  // namespace ringlet
