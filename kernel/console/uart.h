// Polled UART output for the console: 16550-compatible registers, either the
// classic byte-wide layout (QEMU virt's ns16550a) or the DesignWare APB UART's
// 32-bit registers at a 4-byte stride (the JH7110). Geometry comes from the FDT.
#pragma once

#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "ringlet/result.h"

namespace ringlet {

class Uart {
public:
    // A UART at virtual address `regs` described by `info`; fails for an
    // unsupported kind or register width.
    static Result<Uart> create(const UartInfo& info, uint64_t regs);

    // Waits for room in the transmitter and sends one byte.
    void put(char c) const;

private:
    Uart(uint64_t regs, uint32_t shift, uint32_t width) : m_regs(regs), m_shift(shift), m_width(width) {}
    uint32_t read(uint32_t reg) const;
    void write(uint32_t reg, uint32_t value) const;

    uint64_t m_regs;
    uint32_t m_shift;
    uint32_t m_width;
};

}  // namespace ringlet
