// The capability and memory system calls (decode, then invoke), and what the
// kernel does when an app's capabilities go away.
#pragma once

#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "kernel/obj/dispatcher.h"
#include "ringlet/result.h"

namespace ringlet {

// The devices apps may claim (virtio-mmio slots from the FDT).
void set_claimable_devices(const BootInfo& info);

// Handles cap/frame/device syscall `number` for `d`; Unsupported if it is
// not one of them.
Result<uint64_t> cap_syscall(Dispatcher& d, uint64_t number, const uint64_t (&args)[6]);

// Removes every capability of `d` (its mappings and the frames it owned go).
void release_caps(Dispatcher& d);

}  // namespace ringlet
