#include "kernel/cap/cap_syscalls.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/obj/channel_table.h"
#include "kernel/sched/dispatch.h"
#include "kernel/panic.h"
#include "kernel/smp/hart_local.h"
#include "kernel/smp/mailbox.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {
namespace {

// The machine's capabilities and the channel objects they name, under
// g_caps_lock (see CapsGuard).
SpinLock g_caps_lock;
CapSpace g_caps;
ChannelTable g_channels;

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
    } else if (node.type == kCapChannel) {
        g_channels.release(node.object);
    }
}

uint16_t table_of(const Dispatcher& d) { return static_cast<uint16_t>(d.cap_table); }

Result<uint64_t> frame_alloc(Dispatcher& d, const FrameAllocRequest& req) {
    Dispatcher& app = domain_of(d);  // a spanned app's cores share one quota
    if (app.frames_used + req.pages > kFrameQuotaPages) return Error::OutOfMemory;
    // Every frame cap is physically contiguous: a DMA ring or buffer can use it as is.
    uint64_t pa = TRY(frames().alloc(req.pages));
    __builtin_memset(reinterpret_cast<void*>(arch::phys_to_virt(pa)), 0, req.pages * layout::kPageSize);
    auto cap = g_caps.insert_root(table_of(d), kCapFrame, kRightAll, pa, req.pages * layout::kPageSize);
    if (!cap) {
        (void)frames().free(pa, req.pages);
        return cap.error();
    }
    app.frames_used += req.pages;
    return *cap;
}

Result<uint64_t> frame_map(Dispatcher& d, const FrameMapRequest& req) {
    CapNode* node = req.cap.node;
    AddressSpace& space = domain_of(d).space;
    TRY(space.map(req.va, node->base, node->size, req.perm));
    node->map_root = space.root();
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
    if (node->owns_object && node->type == kCapFrame) domain_of(d).frames_used -= node->size / layout::kPageSize;
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

// The app a dispatcher cap names, if it can still receive capabilities.
Result<Dispatcher*> receiving_app(const CapNode& dispatcher_cap) {
    Dispatcher* d = find_dispatcher(dispatcher_cap.object);
    if (!d || d->caps_closed) return Error::BadCapability;  // it has ended
    return d;
}

Result<uint64_t> cap_mint(Dispatcher& d, const CapMintRequest& req) {
    if (!req.target.node) return g_caps.mint(table_of(d), req.cap.index, req.rights);
    Dispatcher* to = TRY(receiving_app(*req.target.node));
    return g_caps.grant(table_of(d), req.cap.index, table_of(*to), req.rights);
}

Result<uint64_t> channel_create(Dispatcher& d, const ChannelCreateRequest& req) {
    uint32_t id = TRY(g_channels.create(d.id));
    auto cap = g_caps.derive_object(table_of(d), req.frame.index, kCapChannel,
                                    kRightRead | kRightWrite | kRightMap | kRightGrant, id);
    if (!cap) g_channels.release(id);
    return cap;
}

// Raises `bit` of dispatcher `id`: directly if it lives on this hart (it is
// not running: this hart is in a syscall), else by message to its hart.
Result<void> deliver(uint32_t id, uint32_t bit) {
    Dispatcher* to = find_dispatcher(id);
    if (!to || to->caps_closed) return {};  // ending: nobody to wake
    if (to->hart_index == current_hart_index()) {
        to->notifications |= 1ull << bit;
        return {};
    }
    return send_to_hart(to->hart_index, HartMessageType::Notify, reinterpret_cast<uint64_t>(to),
                        static_cast<uint64_t>(id) << 8 | bit);
}

Result<uint64_t> channel_control(Dispatcher& d, const ChannelControlRequest& req) {
    const uint32_t channel = req.channel.node->object;
    if (req.op == ChannelOp::Bind) {
        ChannelTable::Bound bound = TRY(g_channels.bind(channel, d.id, req.bit));
        if (bound.pending) d.notifications |= 1ull << req.bit;
        return bound.end;
    }
    ChannelWake wake = TRY(g_channels.notify(channel, d.id));
    if (wake.owner) TRY(deliver(wake.owner, wake.bit));
    return 0;
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
    case kSysCapMint: return cap_mint(d, req.mint);
    case kSysCapDelete: return cap_delete(d, req.cap);
    case kSysCapRevoke: TRY(g_caps.revoke(table, req.cap.cap.index)); return 0;
    case kSysFrameAlloc: return frame_alloc(d, req.frame_alloc);
    case kSysFrameMap: return frame_map(d, req.frame_map);
    case kSysFrameUnmap: return frame_unmap(req.cap);
    case kSysFramePhys: return req.cap.cap.node->base;
    case kSysDeviceClaim: return device_claim(d, req.device_claim);
    case kSysIrqControl: return irq_control(d, req.irq);
    case kSysChannelCreate: return channel_create(d, req.channel_create);
    case kSysChannelControl: return channel_control(d, req.channel);
    default: return Error::Unsupported;
    }
}

Result<uint64_t> hand_over_caps(Dispatcher& starter, Dispatcher& app, CapIndex gift, uint32_t rights) {
    if (gift != 0) {
        // Decode checked it before the app was loaded, outside this lock:
        // check again, it may have been deleted meanwhile.
        TRY(g_caps.lookup(table_of(starter), gift, kCapNull, kRightGrant));
        CapIndex given = TRY(g_caps.grant(table_of(starter), gift, table_of(app), rights));
        arch::set_start_arg(app.frame, 3, given);
    }
    return g_caps.insert_root(table_of(starter), kCapDispatcher, kRightGrant, 0, 0, 0, app.id);
}

void release_member_caps(Dispatcher& d) {
    CapsGuard guard;
    d.caps_closed = true;
    g_channels.unbind_owner(d.id);
}

void release_caps(Dispatcher& d) {
    CapsGuard guard;
    d.caps_closed = true;
    g_channels.unbind_owner(d.id);
    guard.caps().clear_table(table_of(d));
    d.frames_used = 0;
}

}  // namespace ringlet
