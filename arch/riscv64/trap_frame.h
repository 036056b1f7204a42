// The register state saved by trap_entry.S: x0..x31, then sepc, sstatus,
// scause, stval (offsets in asm_offsets.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/riscv64/asm_offsets.h"

namespace ringlet {

struct TrapFrame {
    uint64_t x[32];
    uint64_t sepc;
    uint64_t sstatus;
    uint64_t scause;
    uint64_t stval;

    uint64_t& ra() { return x[1]; }
    uint64_t& sp() { return x[2]; }
    uint64_t& fp() { return x[8]; }
    uint64_t& a(int i) { return x[10 + i]; }
};

static_assert(offsetof(TrapFrame, sepc) == TF_SEPC);
static_assert(offsetof(TrapFrame, stval) == TF_STVAL);
static_assert(sizeof(TrapFrame) == TF_SIZE);
static_assert(TF_SIZE % 16 == 0, "the frame keeps sp 16-byte aligned");

}  // namespace ringlet
