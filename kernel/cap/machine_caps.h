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

// Holds the lock of the machine's CapSpace. Any hart may change capabilities
// (control plane); while it waits for the lock a hart keeps serving its
// mailbox, because the holder may be waiting for this hart's TLB-flush ack.
// What it hands out may be used only while it is held.
class CapsGuard {
public:
    CapsGuard();
    ~CapsGuard();
    CapsGuard(const CapsGuard&) = delete;
    CapsGuard& operator=(const CapsGuard&) = delete;
    // The machine's capabilities.
    CapSpace& caps();
    // The channel objects channel caps name.
    ChannelTable& channels();
};

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
