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

// A new dispatcher running initrd app `name` (not yet placed on a hart).
// NotFound if no such file; BadFormat (with a console line saying why) if
// its ELF is not a static RISC-V executable we accept.
Result<Dispatcher*> load_app(const char* name, size_t name_len, uint64_t kernel_root, uint64_t arg);

}  // namespace ringlet
