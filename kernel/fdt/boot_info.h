// BootInfo: everything the kernel learns from the flattened device tree, read
// once at boot by parse_boot_info() (kernel/fdt/fdt.h). Fixed-size arrays: the
// parser runs before any allocator exists. Nothing here is QEMU-specific.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ringlet {

struct PhysRange {
    uint64_t base = 0;
    uint64_t size = 0;
    uint64_t end() const { return base + size; }
};

struct HartInfo {
    uint32_t hart_id = 0;      // the cpu node's reg
    bool enabled = false;      // status absent, "okay" or "ok"
    bool has_mmu = false;      // mmu-type is riscv,sv39/sv48/sv57
    bool has_sstc = false;     // riscv,isa (or riscv,isa-extensions) lists sstc
    bool has_zbb = false;      // ... lists zbb
    bool has_vector = false;   // ... lists v (RVV 1.0): apps may use vector registers
    uint32_t intc_phandle = 0; // phandle of its "riscv,cpu-intc" child (PLIC contexts refer to it)
    int32_t plic_s_context = -1; // PLIC context whose interrupts reach this hart in S-mode, -1 if none
};

enum class UartKind : uint8_t { None, Ns16550, DwApb };

struct UartInfo {
    UartKind kind = UartKind::None;
    uint64_t base = 0;
    uint64_t size = 0;
    uint32_t reg_shift = 0;     // register stride is 1 << reg_shift bytes
    uint32_t reg_io_width = 1;  // access width in bytes (1 or 4)
    uint32_t clock_frequency = 0;
    uint32_t irq = 0;
};

struct PlicInfo {
    bool present = false;
    uint64_t base = 0;
    uint64_t size = 0;
    uint32_t ndev = 0;          // riscv,ndev
};

struct VirtioMmioInfo {
    uint64_t base = 0;
    uint64_t size = 0;
    uint32_t irq = 0;
};

// The device that powers the machine off with a chosen exit code:
// "sifive,test0" (QEMU exits with the code written), or a syscon-poweroff.
struct PowerInfo {
    bool present = false;
    uint64_t base = 0;
};

struct BootInfo {
    static constexpr size_t kMaxMemory = 16;
    static constexpr size_t kMaxReserved = 32;
    static constexpr size_t kMaxHarts = 32;
    static constexpr size_t kMaxVirtio = 16;
    static constexpr size_t kMaxBootargs = 512;
    static constexpr size_t kMaxPath = 128;

    uint64_t fdt_size = 0;             // totalsize from the header

    PhysRange memory[kMaxMemory];      // /memory@* reg ranges
    size_t memory_count = 0;
    PhysRange reserved[kMaxReserved];  // memreserve block + /reserved-memory children with reg
    size_t reserved_count = 0;

    bool has_initrd = false;
    PhysRange initrd;                  // /chosen linux,initrd-start .. linux,initrd-end
    char bootargs[kMaxBootargs] = {};  // /chosen bootargs ("" if absent)
    char stdout_path[kMaxPath] = {};   // /chosen stdout-path, options after ':' dropped

    uint64_t timebase_frequency = 0;   // /cpus timebase-frequency (or from cpu@*)
    HartInfo harts[kMaxHarts];         // every cpu node, in tree order
    size_t hart_count = 0;

    UartInfo uart;                     // stdout-path's node if it is a UART we drive, else the first one
    PlicInfo plic;
    VirtioMmioInfo virtio[kMaxVirtio]; // "virtio,mmio" nodes, in tree order
    size_t virtio_count = 0;
    PowerInfo power;
};

}  // namespace ringlet
