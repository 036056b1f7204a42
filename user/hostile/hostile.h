// Shared by the hostile test apps: each tries one thing the kernel must stop.
#pragma once

#include "user/rt/syscall.h"

namespace hostile {

// A kernel text address (the kernel image's link address).
inline constexpr uint64_t kKernelText = 0xffffffffc0200000ull;
// A kernel data address (the direct map of RAM on QEMU virt).
inline constexpr uint64_t kKernelData = 0xffffffc080200000ull;

}  // namespace hostile
