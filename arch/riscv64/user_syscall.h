// U-mode side of the syscall ABI (include/ringlet/syscall_abi.h) and the
// user-readable counters: the only inline assembly user space needs.
#pragma once

#include <stdint.h>

namespace ringlet::arch {

struct SyscallResult {
    uint64_t error;  // a ringlet::Error value; 0 = ok
    uint64_t value;
};

inline SyscallResult user_syscall(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                                  uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0) {
    register uint64_t r0 asm("a0") = a0;
    register uint64_t r1 asm("a1") = a1;
    register uint64_t r2 asm("a2") = a2;
    register uint64_t r3 asm("a3") = a3;
    register uint64_t r4 asm("a4") = a4;
    register uint64_t r5 asm("a5") = a5;
    register uint64_t r7 asm("a7") = number;
    asm volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7) : "memory");
    return {r0, r1};
}

// rdtime: timebase ticks (the kernel enables it for U-mode via scounteren).
inline uint64_t read_time() {
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

// rdinstret: retired instructions (exact under QEMU -icount shift=0 only).
inline uint64_t read_instret() {
    uint64_t n;
    asm volatile("rdinstret %0" : "=r"(n));
    return n;
}

}  // namespace ringlet::arch
