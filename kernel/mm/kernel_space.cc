#include "kernel/mm/kernel_space.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/map_perm.h"

extern "C" char __image_start[], __text_end[], __rodata_end[], __image_end[], boot_stack_guard[];

namespace ringlet {
namespace {

uint64_t page_down(uint64_t v) { return v & ~(layout::kPageSize - 1); }
uint64_t page_up(uint64_t v) { return (v + layout::kPageSize - 1) & ~(layout::kPageSize - 1); }

Result<void> map_image_part(uint64_t root, uint64_t load_pa, const char* from, const char* to, uint32_t perm) {
    uint64_t va = reinterpret_cast<uint64_t>(from);
    uint64_t size = reinterpret_cast<uint64_t>(to) - va;
    if (size == 0) return {};
    return arch::map(root, va, load_pa + (va - layout::kKernelBase), size, perm);
}

Result<void> map_mmio(uint64_t root, uint64_t base, uint64_t size) {
    if (size == 0) size = layout::kPageSize;
    uint64_t first = page_down(base);
    auto r = arch::map(root, arch::phys_to_virt(first), first, page_up(base + size) - first,
                       kMapRead | kMapWrite | kMapGlobal);
    // Two devices may share a page; the first mapping serves both.
    if (!r && r.error() != Error::Exists) return r.error();
    return {};
}

}  // namespace

Result<KernelSpace> build_kernel_space(const BootInfo& info, uint64_t load_pa) {
    uint64_t root = TRY(arch::new_page_table());
    constexpr uint32_t G = kMapGlobal;
    TRY(map_image_part(root, load_pa, __image_start, __text_end, kMapRead | kMapExec | G));
    TRY(map_image_part(root, load_pa, __text_end, __rodata_end, kMapRead | G));
    TRY(map_image_part(root, load_pa, __rodata_end, boot_stack_guard, kMapRead | kMapWrite | G));
    TRY(map_image_part(root, load_pa, boot_stack_guard + layout::kPageSize, __image_end, kMapRead | kMapWrite | G));

    for (size_t i = 0; i < info.memory_count; ++i) {
        uint64_t base = page_down(info.memory[i].base);
        uint64_t end = page_up(info.memory[i].end());
        if (end > layout::kDirectMapSize) return Error::OutOfRange;
        TRY(arch::map(root, arch::phys_to_virt(base), base, end - base, kMapRead | kMapWrite | G));
    }
    if (info.uart.kind != UartKind::None) TRY(map_mmio(root, info.uart.base, info.uart.size));
    if (info.power.present) TRY(map_mmio(root, info.power.base, layout::kPageSize));
    if (info.plic.present) TRY(map_mmio(root, info.plic.base, info.plic.size));
    // The virtio-mmio slots: the kernel resets a device when its last app-held
    // capability goes (kernel/cap/device_reset.h); apps drive them otherwise.
    for (size_t i = 0; i < info.virtio_count; ++i) TRY(map_mmio(root, info.virtio[i].base, info.virtio[i].size));
    return KernelSpace{root};
}

Result<KernelStack> map_kernel_stack(const KernelSpace& space, uint32_t index) {
    constexpr size_t kFrames = layout::kKernelStackSize / layout::kPageSize;
    uint64_t pa = TRY(frames().alloc(kFrames));
    uint64_t bottom = layout::kStackAreaBase + index * layout::kStackSlot + layout::kPageSize;
    TRY(arch::map(space.root_pa, bottom, pa, layout::kKernelStackSize, kMapRead | kMapWrite | kMapGlobal));
    uint64_t emergency = TRY(frames().alloc(1));
    return KernelStack{bottom, bottom + layout::kKernelStackSize,
                       arch::phys_to_virt(emergency) + layout::kPageSize};
}

}  // namespace ringlet
