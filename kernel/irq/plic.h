// The RISC-V Platform-Level Interrupt Controller (PLIC spec 1.0): priorities
// per source, an enable bitmap and threshold per context, and claim/complete.
// Geometry and each hart's S-mode context come from the FDT.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

class Plic {
public:
    // `regs`: where the kernel mapped the PLIC; `ndev`: riscv,ndev.
    void init(uint64_t regs, uint32_t ndev) {
        m_regs = regs;
        m_ndev = ndev;
    }
    bool present() const { return m_regs != 0; }

    // Lets every source with priority > 0 through on `context`.
    void init_context(int32_t context);
    // Routes source `irq` to `context` (priority 1), or stops it.
    Result<void> enable(uint32_t irq, int32_t context, bool on);
    // The highest-priority pending source for `context` (0: none); the source
    // stays masked until complete().
    uint32_t claim(int32_t context);
    void complete(uint32_t irq, int32_t context);

private:
    volatile uint32_t& reg(uint64_t offset) { return *reinterpret_cast<volatile uint32_t*>(m_regs + offset); }
    uint64_t m_regs = 0;
    uint32_t m_ndev = 0;
};

}  // namespace ringlet
