// Raw system calls for U-mode code (the ABI is include/ringlet/syscall_abi.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/riscv64/user_syscall.h"
#include "ringlet/result.h"
#include "ringlet/syscall_abi.h"

namespace ringlet::user {

using arch::SyscallResult;

inline SyscallResult syscall(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                             uint64_t a4 = 0, uint64_t a5 = 0) {
    return arch::user_syscall(number, a0, a1, a2, a3, a4, a5);
}

// A syscall's outcome as a Result: its value, or the kernel's Error.
inline Result<uint64_t> as_result(const SyscallResult& r) {
    if (r.error) return static_cast<Error>(r.error);
    return r.value;
}

// Writes `text` to the console (in chunks the kernel accepts).
void print(const char* text);
void print(const char* text, size_t length);
// printf-style, formatted by the kernel's own formatter copy in the app.
void printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void exit(int64_t code);

// The dense index of the hart this core of the app runs on (per core), and
// the rdtime frequency.
uint64_t hart_index();
void set_hart_index(uint64_t index);
// Exits (code 134) unless this core's thread-local block holds the image.
void check_tls();
uint64_t timebase_hz();
// The capability the app's starter handed it (dispatcher_start), or 0.
uint64_t start_cap();

// The platform time in timebase ticks, and retired instructions.
inline uint64_t now() { return arch::read_time(); }
inline uint64_t instret() { return arch::read_instret(); }

}  // namespace ringlet::user
