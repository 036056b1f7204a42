// The kernel's own address space: the final W^X map of the image, the direct
// map of RAM, the devices the kernel drives itself, and per-hart stacks.
#pragma once

#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "ringlet/result.h"

namespace ringlet {

struct KernelSpace {
    uint64_t root_pa = 0;
};

// Builds the final kernel page table (not yet active): text RX, rodata R,
// data/bss RW, the boot stack's guard page unmapped, RAM at the direct map RW
// and NX, and the UART, power device, PLIC and virtio-mmio registers RW.
Result<KernelSpace> build_kernel_space(const BootInfo& info, uint64_t load_pa);

struct KernelStack {
    uint64_t bottom;         // lowest mapped byte; the page below is the guard
    uint64_t top;
    uint64_t emergency_top;  // a separate page for traps taken after an overflow
};

// Maps the kernel stack of hart `index` under an unmapped guard page.
Result<KernelStack> map_kernel_stack(const KernelSpace& space, uint32_t index);

}  // namespace ringlet
