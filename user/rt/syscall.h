// Raw system calls for U-mode code (the ABI is include/ringlet/syscall_abi.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"
#include "ringlet/syscall_abi.h"

namespace ringlet::user {

struct SyscallResult {
    uint64_t error;  // a ringlet::Error value; 0 = ok
    uint64_t value;
};

inline SyscallResult syscall(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                             uint64_t a4 = 0, uint64_t a5 = 0) {
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

// Writes `text` to the console (in chunks the kernel accepts).
void print(const char* text);
void print(const char* text, size_t length);
// printf-style, formatted by the kernel's own formatter copy in the app.
void printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void exit(int64_t code);

// The platform time in timebase ticks (rdtime; the kernel enables it for U-mode).
inline uint64_t now() {
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}
inline uint64_t instret() {
    uint64_t n;
    asm volatile("rdinstret %0" : "=r"(n));
    return n;
}

}  // namespace ringlet::user
