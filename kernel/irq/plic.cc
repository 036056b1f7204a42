#include "kernel/irq/plic.h"

namespace ringlet {
namespace {
// Register map (PLIC spec, "Memory Map").
constexpr uint64_t kPriority = 0x0;           // + 4 * source
constexpr uint64_t kEnable = 0x2000;          // + 0x80 * context + 4 * (source / 32)
constexpr uint64_t kThreshold = 0x200000;     // + 0x1000 * context
constexpr uint64_t kClaim = 0x200004;         // + 0x1000 * context
}  // namespace

void Plic::init_context(int32_t context) {
    if (!present() || context < 0) return;
    reg(kThreshold + 0x1000ull * static_cast<uint64_t>(context)) = 0;
}

Result<void> Plic::enable(uint32_t irq, int32_t context, bool on) {
    if (!present() || context < 0) return Error::Unsupported;
    if (irq == 0 || irq >= m_ndev + 1) return Error::OutOfRange;
    reg(kPriority + 4ull * irq) = on ? 1 : 0;
    volatile uint32_t& word = reg(kEnable + 0x80ull * static_cast<uint64_t>(context) + 4ull * (irq / 32));
    if (on) word = word | (1u << (irq % 32));
    else word = word & ~(1u << (irq % 32));
    return {};
}

uint32_t Plic::claim(int32_t context) {
    if (!present() || context < 0) return 0;
    return reg(kClaim + 0x1000ull * static_cast<uint64_t>(context));
}

void Plic::complete(uint32_t irq, int32_t context) {
    if (!present() || context < 0) return;
    reg(kClaim + 0x1000ull * static_cast<uint64_t>(context)) = irq;
}

}  // namespace ringlet
