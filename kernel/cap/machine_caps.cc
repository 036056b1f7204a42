#include "kernel/cap/machine_caps.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/cap/device_reset.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/smp/mailbox.h"

namespace ringlet {
namespace {

// The machine's capabilities, the channel objects they name and the boot's
// roots, under g_caps_lock (see CapsGuard).
SpinLock g_caps_lock;
CapSpace g_caps;
ChannelTable g_channels;
BootCaps g_boot_caps;

// A device's registers through the kernel's own mapping of its slot.
class MmioRegs final : public DeviceRegs {
public:
    explicit MmioRegs(uint64_t base) : m_regs(layout::phys_to_virt(base)) {}
    uint32_t read32(uint32_t offset) override { return *reinterpret_cast<volatile uint32_t*>(m_regs + offset); }
    void write32(uint32_t offset, uint32_t value) override {
        *reinterpret_cast<volatile uint32_t*>(m_regs + offset) = value;
    }

private:
    uint64_t m_regs;
};

// Polls of Status after a reset: QEMU resets at once; real devices finish
// within microseconds. Bounded so a broken device cannot hang the kernel.
constexpr uint32_t kResetPolls = 1u << 20;

// A device cap goes (its node is already unlinked). If its registers were
// mapped through it and no other cap maps them, nobody can drive the device
// any more — but it may still own buffers the app posted: reset it and let go
// of its interrupt line, before the caller frees anything the device may
// still write into (CapSpace::clear_table removes device caps first). A cap
// that never mapped the registers (a supervisor's, which only hands the
// device on) changes nothing; the last cap going leaves nothing mapped.
void hand_back_device(const CapNode& node) {
    if (node.object >= g_boot_caps.device_count() || !node.map_root) return;
    auto mapped = g_caps.descendant_mapped(CapSpace::kKernelTable, g_boot_caps.device_root(node.object));
    if (!mapped || *mapped) return;  // another app still drives it
    MmioRegs regs(node.base);
    Result<void> reset = reset_virtio_mmio(regs, kResetPolls);
    release_irq_line(*arch::hart_local(), node.irq);
    if (reset) kprintf("device: slot %u handed back (reset)\n", node.object);
    else if (reset.error() != Error::NotFound)
        kprintf("device: slot %u handed back, reset failed: %s\n", node.object, error_name(reset.error()));
}

// CapSpace's remove hook: undo the node's mapping, and for a root its object.
void on_cap_removed(const CapNode& node, void*) {
    if (node.map_root) {
        if (auto r = arch::unmap(node.map_root, node.map_va, node.size); !r)
            panic("on_cap_removed: unmap %p: %s", reinterpret_cast<void*>(node.map_va), error_name(r.error()));
        if (auto r = shootdown_tlbs(); !r) panic("on_cap_removed: TLB shootdown: %s", error_name(r.error()));
    }
    if (node.type == kCapDevice && node.table != CapSpace::kKernelTable) hand_back_device(node);
    if (!node.owns_object) return;
    if (node.type == kCapFrame) {
        if (auto r = frames().free(node.base, node.size / layout::kPageSize); !r)
            panic("on_cap_removed: free frames: %s", error_name(r.error()));
    } else if (node.type == kCapChannel) {
        g_channels.release(node.object);
    }
    // Memory pools, devices, harts and the image own nothing to free: a
    // pool's budget returns through CapSpace's charges, and the roots of
    // the others stay in the kernel's table.
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

Result<void> create_boot_caps(const BootInfo& info, uint32_t hart_count) {
    BootDevice devices[BootCaps::kMaxDevices];
    size_t count = info.virtio_count < BootCaps::kMaxDevices ? info.virtio_count : BootCaps::kMaxDevices;
    for (size_t i = 0; i < count; ++i) {
        uint64_t base = info.virtio[i].base & ~(layout::kPageSize - 1);
        uint64_t end = (info.virtio[i].base + info.virtio[i].size + layout::kPageSize - 1) & ~(layout::kPageSize - 1);
        devices[i] = BootDevice{base, end - base, info.virtio[i].irq};
    }
    const PhysRange initrd = info.has_initrd ? info.initrd : PhysRange{};
    CapsGuard guard;
    return g_boot_caps.create(guard.caps(), devices, count, hart_count, initrd.base, initrd.size);
}

Result<void> record_start_cap(Dispatcher& app, const StartCap& cap) {
    if (app.start_cap_count >= kMaxStartCaps) return Error::Full;
    app.start_caps[app.start_cap_count++] = cap;
    arch::set_start_arg(app.frame, 5, app.start_cap_count);
    return {};
}

Result<void> give_init_caps(Dispatcher& app, uint64_t budget, uint32_t device_mask) {
    CapsGuard guard;
    const size_t room = kMaxStartCaps - app.start_cap_count;
    StartCap given[kMaxStartCaps];
    size_t n = TRY(g_boot_caps.give_init_caps(guard.caps(), table_of(app), budget, device_mask, given, room));
    for (size_t i = 0; i < n; ++i) TRY(record_start_cap(app, given[i]));  // room was checked
    return {};
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
}

}  // namespace ringlet
