// Starting apps from the initrd: find the named file in the cpio archive,
// check its ELF headers, and build a dispatcher whose address space holds its
// segments (with the segment's own rights, never W+X) and a stack.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "kernel/obj/dispatcher.h"
#include "ringlet/result.h"

namespace ringlet {

inline constexpr uint64_t kUserStackTop = 0x0000003ffffff000ull;  // one unmapped page above it
inline constexpr uint64_t kUserStackSize = 64 * 1024;

// Sets where the initrd lives (physical range from the FDT).
void set_initrd(const PhysRange& initrd);

struct AppStart {
    const char* name;       // file name in the initrd
    size_t name_len;
    const char* args;       // space-separated arguments (may be empty)
    size_t args_len;
    uint64_t hart_index;    // where it will run (told to the app in a0)
    uint64_t timebase_hz;   // told to the app in a1
};

// A new dispatcher running initrd app `start.name` (not yet placed on a
// hart), started as syscall_abi.h describes. NotFound if no such file;
// BadFormat (with a console line saying why) if its ELF is not a static
// RISC-V executable we accept; InvalidArgument if the arguments are too long.
Result<Dispatcher*> load_app(const AppStart& start, uint64_t kernel_root);

// Loads `start` and makes it runnable on its hart (by message if that is not
// this hart). OutOfRange for a hart index the machine does not have.
Result<Dispatcher*> start_app(const AppStart& start);
// The two halves of start_app, for a starter that must hand the app its
// capabilities in between: load (not yet runnable) ...
Result<Dispatcher*> prepare_app(const AppStart& start);
// ... and make it runnable on hart start.hart_index.
void launch_app(Dispatcher* d, size_t hart_index);
uint64_t timebase_frequency();

}  // namespace ringlet
