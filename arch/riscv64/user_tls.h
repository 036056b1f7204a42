// U-mode thread pointer. On RISC-V the tp register addresses the running
// core's thread-local block directly (the psABI's TLS variant I with no TCB:
// a local-exec access is tp + the variable's offset in the PT_TLS image).
// The kernel saves and restores tp with the other user registers, so each
// dispatcher of an app keeps its own.
#pragma once

namespace ringlet::arch {

inline void set_thread_pointer(void* block) { asm volatile("mv tp, %0" : : "r"(block) : "memory"); }

inline void* thread_pointer() {
    void* p;
    asm volatile("mv %0, tp" : "=r"(p));
    return p;
}

}  // namespace ringlet::arch
