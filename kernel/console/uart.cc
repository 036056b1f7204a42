#include "kernel/console/uart.h"

namespace ringlet {
namespace {
constexpr uint32_t kThr = 0;        // transmit holding register
constexpr uint32_t kLsr = 5;        // line status register
constexpr uint32_t kLsrThre = 0x20; // transmit holding register empty
}  // namespace

Result<Uart> Uart::create(const UartInfo& info, uint64_t regs) {
    if (info.kind == UartKind::None) return Error::NotFound;
    if (info.reg_io_width != 1 && info.reg_io_width != 4) return Error::Unsupported;
    if (info.reg_shift > 4) return Error::Unsupported;
    return Uart(regs, info.reg_shift, info.reg_io_width);
}

uint32_t Uart::read(uint32_t reg) const {
    uint64_t addr = m_regs + (static_cast<uint64_t>(reg) << m_shift);
    if (m_width == 4) return *reinterpret_cast<volatile uint32_t*>(addr);
    return *reinterpret_cast<volatile uint8_t*>(addr);
}

void Uart::write(uint32_t reg, uint32_t value) const {
    uint64_t addr = m_regs + (static_cast<uint64_t>(reg) << m_shift);
    if (m_width == 4) *reinterpret_cast<volatile uint32_t*>(addr) = value;
    else *reinterpret_cast<volatile uint8_t*>(addr) = static_cast<uint8_t>(value);
}

void Uart::put(char c) const {
    while (!(read(kLsr) & kLsrThre)) {
    }
    write(kThr, static_cast<uint8_t>(c));
}

}  // namespace ringlet
