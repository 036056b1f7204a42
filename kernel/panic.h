// panic: a broken kernel invariant. Prints the reason, this hart's backtrace
// with symbol names, and turns the machine off with a failure code.
#pragma once

#include "kernel/fdt/boot_info.h"

namespace ringlet {

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// The power device panic and shutdown use (set once the FDT is parsed).
void set_power_info(const PowerInfo& power);
[[noreturn]] void shutdown(int code);

// Prints "  #n pc symbol+off" for each return address from frame `fp` up.
void print_backtrace(uint64_t pc, uint64_t fp);

}  // namespace ringlet
