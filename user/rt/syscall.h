// Raw system calls for U-mode code (the ABI is include/ringlet/syscall_abi.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/riscv64/user_syscall.h"
#include "ringlet/result.h"
#include "ringlet/start_caps.h"
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
// What that hart lets U-mode use (HartFeature bits, syscall_abi.h: the
// vector unit), as the kernel said at the core's start.
uint64_t hart_features();
void set_hart_features(uint64_t features);
// Exits (code 134) unless this core's thread-local block holds the image.
void check_tls();
// The timebase (rdtime ticks per second) and, when a tick is a whole number
// of nanoseconds (QEMU virt's 10 MHz: 100; the VisionFive 2's 4 MHz: 250),
// that number, else 0. Set once before main, constant after; inline because
// the libOS reads the clock on every executor round.
namespace detail {
extern uint64_t g_timebase_hz;
extern uint64_t g_ns_per_tick;
}  // namespace detail
inline uint64_t timebase_hz() { return detail::g_timebase_hz; }
inline uint64_t ns_per_tick() { return detail::g_ns_per_tick; }
// The first capability the app's starter handed it (dispatcher_start), or 0.
uint64_t start_cap();

// Every capability the app started with (ringlet/start_caps.h): init= apps
// get the boot's root capabilities, started apps their starter's gifts.
const StartCap* start_caps();
size_t start_cap_count();
// The first start capability of `type` (and, for the second form, `tag`:
// a device's slot, a hart's index); NotFound if the app has none.
Result<CapIndex> find_start_cap(uint8_t type);
Result<CapIndex> find_start_cap(uint8_t type, uint32_t tag);
// The memory cap frame_alloc draws from: the first memory start cap, or 0
// when the app has none (frame_alloc then refuses: BadCapability).
CapIndex memory_cap();
// dispatcher_start with the image cap and the hart cap (dense index `hart`)
// this app started with: starts `line` ("name arg...") handing it `gifts`
// → its dispatcher cap. NotFound if the app holds no image or no such hart
// cap; otherwise the kernel's answer.
Result<CapIndex> start_app(const char* line, uint64_t hart, const StartGift* gifts = nullptr, size_t count = 0);
// frame_alloc from memory_cap(): `pages` zeroed, physically contiguous.
inline SyscallResult frame_alloc(uint64_t pages, uint64_t flags = 0) {
    return syscall(kSysFrameAlloc, memory_cap(), pages, flags);
}

// The platform time in timebase ticks, and retired instructions.
inline uint64_t now() { return arch::read_time(); }
inline uint64_t instret() { return arch::read_instret(); }

}  // namespace ringlet::user
