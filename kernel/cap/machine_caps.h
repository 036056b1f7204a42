// The machine's capabilities: the one CapSpace, the channel objects its caps
// name, the devices apps may claim, and what the kernel does when a
// capability goes away. The system calls that use them live one family per
// file under kernel/syscall/.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap/cap_space.h"
#include "kernel/fdt/boot_info.h"
#include "kernel/obj/channel_table.h"
#include "kernel/obj/dispatcher.h"
#include "ringlet/result.h"

namespace ringlet {

// A device apps may claim (a virtio-mmio slot from the FDT): its page-rounded
// register window and interrupt line. `claimed` is under the CapSpace lock.
struct ClaimableDevice {
    uint64_t base;
    uint64_t size;
    uint32_t irq;
    bool claimed;
};

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
    // The claimable device with FDT index `index` (< claimable_device_count()).
    ClaimableDevice& device(size_t index);
};

// The devices apps may claim (virtio-mmio slots from the FDT). Boot only.
void set_claimable_devices(const BootInfo& info);
size_t claimable_device_count();

// The CapTable of `d` in the CapSpace.
inline uint16_t table_of(const Dispatcher& d) { return static_cast<uint16_t>(d.cap_table); }

// Removes every capability of `d` (its mappings and the frames it owned go)
// and closes its table to new ones; it leaves the ends of its channels.
void release_caps(Dispatcher& d);
// A member of a spanned app ends while others go on: only its own channel
// bindings go (the table is the app's, released with its last member).
void release_member_caps(Dispatcher& d);

}  // namespace ringlet
