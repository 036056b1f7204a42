// The machine's capabilities: the one CapSpace, the channel objects its caps
// name, the root capabilities boot creates (kernel/cap/boot_caps.h), and what
// the kernel does when a capability goes away. The system calls that use
// them live one family per file under kernel/syscall/.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap/boot_caps.h"
#include "kernel/cap/cap_space.h"
#include "kernel/fdt/boot_info.h"
#include "kernel/obj/channel_table.h"
#include "kernel/obj/dispatcher.h"
#include "ringlet/result.h"
#include "ringlet/start_caps.h"

namespace ringlet {

// Locking of the capability objects. There is no lock around a whole
// syscall: `wait`, `exit` and `debug_print` take none (kernel/syscall), and
// the calls that name capabilities lock only what they touch.
//
// The locks, in the order they are taken (a hart never waits for a lock
// above one it holds):
//   1. the derivation lock (one): held by every call that changes the
//      derivation forest or a mapping — mint/grant, draw (frame_alloc),
//      delete, revoke, channel_create, frame_map/unmap, dispatcher_start's
//      hand-over, an app's release. Nodes are allocated and freed, pools
//      charged, children linked, `map_root` set, only under it.
//   2. the CapTable locks (one per table: an app's — shared by the cores of
//      a spanned app — and the kernel's): a table's slots and its nodes
//      change only under its lock (plus the derivation lock), so a call that
//      only reads its own caps (cap_identify, frame_phys, channel_control,
//      irq_control) takes its table's lock alone, and never waits for
//      another app's frame_alloc. Taken after the derivation lock (any number
//      of them, in any order: nobody else holds two) or alone (then no other
//      cap lock is taken while it is held).
//   3. leaf locks, under which no other lock is taken: the channel table's
//      (channels()), the dispatcher pool's (kernel/sched), the frame
//      allocator's (kernel/mm) and the console's.
// Waiting for a lock of 1 or 2 keeps serving the mailbox (the holder may be
// waiting for this hart's TLB-flush ack); while one is held, messages that
// would take them are kept back (kernel/smp/mailbox.h locked sections).
// Nothing long runs under them: frame_alloc zeroes its frames before it
// takes any (kernel/syscall/frame_calls.cc), frees are word-wise bitmap
// updates. A TLB shootdown under the derivation lock goes only to the harts
// where the changed space is live.
enum class CapScope : uint8_t {
    Table,  // the caller's table only: reads and per-cap state (lock 2)
    Tree,   // the derivation lock, then the caller's table (locks 1 + 2)
};

// Holds the locks of `scope` for `table` (a CapTable index). What it hands
// out may be used only while it is held.
class CapGuard {
public:
    CapGuard(uint16_t table, CapScope scope);
    ~CapGuard();
    CapGuard(const CapGuard&) = delete;
    CapGuard& operator=(const CapGuard&) = delete;
    // The machine's capabilities.
    CapSpace& caps();
    bool holds_tree() const { return m_tree; }
    // Tree scope only: also locks `table` (a grant's target).
    void also_lock(uint16_t table);
    // Tree scope only: also locks every table remove/revoke of `cap` (in
    // `table`) or clear_table(`table`) will touch.
    Result<void> lock_tables_under(uint16_t table, CapIndex cap);
    void lock_tables_under_table(uint16_t table);

private:
    void lock_all(const TableSet& tables);
    TableSet m_held;
    bool m_tree;
};

// Is-held assertions: panic naming `who` unless this hart holds the lock.
void assert_tree_locked(const char* who);
void assert_table_locked(uint16_t table, const char* who);

// The channel objects channel caps name, under their own (leaf) lock for as
// long as the returned handle lives: `channels()->bind(...)` holds it for
// that one call.
class ChannelsLocked {
public:
    ChannelsLocked();
    ~ChannelsLocked();
    ChannelsLocked(const ChannelsLocked&) = delete;
    ChannelsLocked& operator=(const ChannelsLocked&) = delete;
    ChannelTable* operator->();
};
inline ChannelsLocked channels() { return {}; }

// Creates the boot's root capabilities (kernel table): a device cap per
// virtio-mmio slot of `info`, a hart cap per each of `hart_count` harts, the
// image cap over the initrd. Boot hart, once, before any app starts.
Result<void> create_boot_caps(const BootInfo& info, uint32_t hart_count);

// Gives init= app `app` (loaded, not yet runnable) its root capabilities
// (BootCaps::give_init_caps: a `budget`-byte memory pool, every hart, the
// image, the devices in `device_mask`) and lists them in its StartCap list.
Result<void> give_init_caps(Dispatcher& app, uint64_t budget, uint32_t device_mask);

// Appends `cap` to the StartCap list of `app` (loaded, not yet runnable) and
// updates its a5 (the count). Full when the list is.
Result<void> record_start_cap(Dispatcher& app, const StartCap& cap);

// The CapTable of `d` in the CapSpace.
inline uint16_t table_of(const Dispatcher& d) { return static_cast<uint16_t>(d.cap_table); }

// Removes every capability of `d` (its mappings and the frames it owned go)
// and closes its table to new ones; it leaves the ends of its channels.
void release_caps(Dispatcher& d);
// A member of a spanned app ends while others go on: only its own channel
// bindings go (the table is the app's, released with its last member).
void release_member_caps(Dispatcher& d);

}  // namespace ringlet
