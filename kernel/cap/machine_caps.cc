#include "kernel/cap/machine_caps.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/cap/device_reset.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "kernel/smp/mailbox.h"

namespace ringlet {
namespace {

// A capability lock (machine_caps.h: the derivation lock and the table
// locks): a spin lock that knows its holder, for the is-held assertions.
// Waiting serves the mailbox; holding it is a locked section.
class CapLock {
public:
    void lock() {
        const uint32_t me = static_cast<uint32_t>(current_hart_index()) + 1;
        if (m_owner == me) panic("CapLock: hart index %u takes a lock it holds", me - 1);
        while (!m_lock.try_lock()) drain_mailbox();
        m_owner = me;
        enter_locked_section();
    }
    void unlock() {
        m_owner = 0;
        m_lock.unlock();
        leave_locked_section();  // may handle kept-back messages, which lock again
    }
    bool held_by_me() const {
        return m_lock.is_locked() && m_owner == static_cast<uint32_t>(current_hart_index()) + 1;
    }

private:
    SpinLock m_lock;
    uint32_t m_owner = 0;  // dense hart index + 1 of the holder; written only by it
};

// The machine's capabilities, the channel objects they name and the boot's
// roots. The locks (machine_caps.h says what each guards): the derivation
// lock, one per CapTable, and the channel table's leaf lock.
CapLock g_tree_lock;
CapLock g_table_locks[CapSpace::kMaxTables];
SpinLock g_channel_lock;
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
void hand_back_device_locked(const CapNode& node) {
    assert_tree_locked("hand_back_device_locked");  // map_root of other tables' nodes is read
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
// Runs inside remove/revoke/clear_table, whose callers hold the derivation
// lock and the lock of every table the removal touches.
void on_cap_removed(const CapNode& node, void*) {
    assert_tree_locked("on_cap_removed");
    assert_table_locked(node.table, "on_cap_removed");
    if (node.map_root) {
        if (auto r = arch::unmap(node.map_root, node.map_va, node.size); !r)
            panic("on_cap_removed: unmap %p: %s", reinterpret_cast<void*>(node.map_va), error_name(r.error()));
        // The mapping was in the space of the app whose table holds the cap.
        if (auto r = shootdown_tlbs(table_member_harts(node.table)); !r)
            panic("on_cap_removed: TLB shootdown: %s", error_name(r.error()));
    }
    if (node.type == kCapDevice && node.table != CapSpace::kKernelTable) hand_back_device_locked(node);
    if (!node.owns_object) return;
    if (node.type == kCapFrame) {
        if (auto r = free_frames(node.base, node.size / layout::kPageSize); !r)
            panic("on_cap_removed: free frames: %s", error_name(r.error()));
    } else if (node.type == kCapChannel) {
        channels()->release(node.object);
    }
    // Memory pools, devices, harts and the image own nothing to free: a
    // pool's budget returns through CapSpace's charges, and the roots of
    // the others stay in the kernel's table.
}

}  // namespace

CapGuard::CapGuard(uint16_t table, CapScope scope) : m_tree(scope == CapScope::Tree) {
    // Guards never nest: the derivation lock comes first or not at all, and
    // a table-only holder takes no other capability lock (the lock order).
    if (in_locked_section()) panic("CapGuard: taken while this hart holds a capability lock (lock order)");
    if (m_tree) {
        g_tree_lock.lock();
        static bool hooked = false;  // under the derivation lock
        if (!hooked) {
            g_caps.set_remove_hook(on_cap_removed, nullptr);
            hooked = true;
        }
    }
    if (table >= CapSpace::kMaxTables) panic("CapGuard: no table %u", table);
    g_table_locks[table].lock();
    m_held.add(table);
}

CapGuard::~CapGuard() {
    m_held.for_each([](uint16_t t) { g_table_locks[t].unlock(); });
    if (m_tree) g_tree_lock.unlock();
}

CapSpace& CapGuard::caps() { return g_caps; }

void CapGuard::lock_all(const TableSet& tables) {
    // Only the derivation lock's holder takes a second table lock, so the
    // order among them does not matter.
    if (!m_tree) panic("CapGuard: more tables without the derivation lock");
    tables.for_each([this](uint16_t t) {
        if (m_held.has(t)) return;
        g_table_locks[t].lock();
        m_held.add(t);
    });
}

void CapGuard::also_lock(uint16_t table) {
    TableSet one;
    if (table < CapSpace::kMaxTables) one.add(table);
    lock_all(one);
}

Result<void> CapGuard::lock_tables_under(uint16_t table, CapIndex cap) {
    TableSet tables;
    TRY(g_caps.tables_under(table, cap, tables));  // the forest is stable: we hold the derivation lock
    lock_all(tables);
    return {};
}

void CapGuard::lock_tables_under_table(uint16_t table) {
    TableSet tables;
    g_caps.tables_under_table(table, tables);
    lock_all(tables);
}

void assert_tree_locked(const char* who) {
    if (!g_tree_lock.held_by_me()) panic("%s: the derivation lock is not held", who);
}

void assert_table_locked(uint16_t table, const char* who) {
    if (table >= CapSpace::kMaxTables || !g_table_locks[table].held_by_me())
        panic("%s: the lock of table %u is not held", who, table);
}

ChannelsLocked::ChannelsLocked() { g_channel_lock.lock(); }
ChannelsLocked::~ChannelsLocked() { g_channel_lock.unlock(); }
ChannelTable* ChannelsLocked::operator->() { return &g_channels; }

Result<void> create_boot_caps(const BootInfo& info, uint32_t hart_count) {
    BootDevice devices[BootCaps::kMaxDevices];
    size_t count = info.virtio_count < BootCaps::kMaxDevices ? info.virtio_count : BootCaps::kMaxDevices;
    for (size_t i = 0; i < count; ++i) {
        uint64_t base = info.virtio[i].base & ~(layout::kPageSize - 1);
        uint64_t end = (info.virtio[i].base + info.virtio[i].size + layout::kPageSize - 1) & ~(layout::kPageSize - 1);
        devices[i] = BootDevice{base, end - base, info.virtio[i].irq};
    }
    const PhysRange initrd = info.has_initrd ? info.initrd : PhysRange{};
    CapGuard guard(CapSpace::kKernelTable, CapScope::Tree);
    return g_boot_caps.create(guard.caps(), devices, count, hart_count, initrd.base, initrd.size);
}

Result<void> record_start_cap(Dispatcher& app, const StartCap& cap) {
    if (app.start_cap_count >= kMaxStartCaps) return Error::Full;
    app.start_caps[app.start_cap_count++] = cap;
    arch::set_start_arg(app.frame, 5, app.start_cap_count);
    return {};
}

Result<void> give_init_caps(Dispatcher& app, uint64_t budget, uint32_t device_mask) {
    CapGuard guard(table_of(app), CapScope::Tree);
    guard.also_lock(CapSpace::kKernelTable);  // the roots it grants from
    const size_t room = kMaxStartCaps - app.start_cap_count;
    StartCap given[kMaxStartCaps];
    size_t n = TRY(g_boot_caps.give_init_caps(guard.caps(), table_of(app), budget, device_mask, given, room));
    for (size_t i = 0; i < n; ++i) TRY(record_start_cap(app, given[i]));  // room was checked
    return {};
}

void release_member_caps(Dispatcher& d) {
    CapGuard guard(table_of(d), CapScope::Tree);  // caps_closed is read under the derivation lock
    d.caps_closed = true;
    channels()->unbind_owner(d.id);
}

void release_caps(Dispatcher& d) {
    CapGuard guard(table_of(d), CapScope::Tree);
    d.caps_closed = true;
    channels()->unbind_owner(d.id);
    guard.lock_tables_under_table(table_of(d));
    guard.caps().clear_table(table_of(d));
}

}  // namespace ringlet
