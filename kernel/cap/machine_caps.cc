#include "kernel/cap/machine_caps.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/smp/mailbox.h"

namespace ringlet {
namespace {

// The machine's capabilities and the channel objects they name, under
// g_caps_lock (see CapsGuard).
SpinLock g_caps_lock;
CapSpace g_caps;
ChannelTable g_channels;

ClaimableDevice g_devices[BootInfo::kMaxVirtio];
size_t g_device_count;

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
ChannelTable& CapsGuard::channels() { return g_channels; }
ClaimableDevice& CapsGuard::device(size_t index) { return g_devices[index]; }

void set_claimable_devices(const BootInfo& info) {
    g_device_count = info.virtio_count;
    for (size_t i = 0; i < info.virtio_count; ++i) {
        uint64_t base = info.virtio[i].base & ~(layout::kPageSize - 1);
        uint64_t end = (info.virtio[i].base + info.virtio[i].size + layout::kPageSize - 1) & ~(layout::kPageSize - 1);
        g_devices[i] = ClaimableDevice{base, end - base, info.virtio[i].irq, false};
    }
}

size_t claimable_device_count() { return g_device_count; }

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
