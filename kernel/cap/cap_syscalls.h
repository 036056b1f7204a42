// The invoke half of the capability, memory, device and interrupt system
// calls (kernel/syscall/decode.h checked everything first), and what the
// kernel does when an app's capabilities go away.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap/cap_space.h"
#include "kernel/fdt/boot_info.h"
#include "kernel/obj/dispatcher.h"
#include "kernel/syscall/decode.h"
#include "ringlet/result.h"

namespace ringlet {

// Holds the lock of the machine's CapSpace. Any hart may change capabilities
// (control plane); while it waits for the lock a hart keeps serving its
// mailbox, because the holder may be waiting for this hart's TLB-flush ack.
class CapsGuard {
public:
    CapsGuard();
    ~CapsGuard();
    CapsGuard(const CapsGuard&) = delete;
    CapsGuard& operator=(const CapsGuard&) = delete;
    // The machine's capabilities; only while a guard is held.
    CapSpace& caps();
};

// The devices apps may claim (virtio-mmio slots from the FDT).
void set_claimable_devices(const BootInfo& info);
size_t claimable_device_count();

// Carries out a decoded capability/memory/device/irq request for `d`.
// Precondition: a CapsGuard is held and `req` came from decode_syscall with
// this dispatcher's table. Unsupported for requests that are not of this family.
Result<uint64_t> invoke_cap_syscall(Dispatcher& d, const SyscallRequest& req);

// For a starter's dispatcher_start, between loading `app` and making it
// runnable (a CapsGuard is held): gives `app` a child of the starter's cap
// `gift` with `rights` (0: none; its index goes to the app in a3) and returns
// a dispatcher cap for `app` in the starter's table.
Result<uint64_t> hand_over_caps(Dispatcher& starter, Dispatcher& app, CapIndex gift, uint32_t rights);

// Removes every capability of `d` (its mappings and the frames it owned go)
// and closes its table to new ones; it leaves the ends of its channels.
void release_caps(Dispatcher& d);
// A member of a spanned app ends while others go on: only its own channel
// bindings go (the table is the app's, released with its last member).
void release_member_caps(Dispatcher& d);

}  // namespace ringlet
