// The parts of kernel/arch.h that the system call path runs on every call,
// defined inline (included by kernel/arch.h on the target only): as calls
// into another translation unit they cost more than their bodies.
#pragma once

#include <stdint.h>

#include "arch/riscv64/csr.h"
#include "arch/riscv64/trap_frame.h"

namespace ringlet::arch {

// In the kernel, tp holds this hart's HartLocal (trap_entry.S).
inline HartLocal* hart_local() {
    HartLocal* local;
    asm volatile("mv %0, tp" : "=r"(local));
    return local;
}

inline uint64_t now() { return riscv::read_time(); }

inline void syscall_args(const TrapFrame& frame, uint64_t& number, uint64_t (&args)[6]) {
    number = frame.x[17];  // written out: GCC -O2 keeps the loop form, a loop per call
    args[0] = frame.x[10];
    args[1] = frame.x[11];
    args[2] = frame.x[12];
    args[3] = frame.x[13];
    args[4] = frame.x[14];
    args[5] = frame.x[15];
}

inline void set_syscall_result(TrapFrame& frame, uint64_t error, uint64_t value) {
    frame.x[10] = error;
    frame.x[11] = value;
}

}  // namespace ringlet::arch
