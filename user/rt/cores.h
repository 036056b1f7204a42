// Running one app on several harts. The kernel starts an app on one hart;
// it spans itself onto the others it was granted (`init=NAME@0-3`), one
// dispatcher per hart in the same address space. Each further core gets its
// own stack and thread-local block (so its own libOS instance: per-core
// state is thread_local) and runs `fn(arg)`. When any core exits or faults,
// the app ends on every hart.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::user {

inline constexpr uint32_t kMaxCores = 8;

// The harts this app may run on (bit i = dense hart index i), its own included.
uint64_t granted_harts();

// Starts `fn(arg)` on hart `hart_index` as a new core of this app. NoRights
// unless granted; Busy if the app runs there already; OutOfMemory if no
// stack or thread-local block is left. fn returning exits the app with its
// value.
using CoreMain = int (*)(void* arg);
Result<void> start_core(uint32_t hart_index, CoreMain fn, void* arg);

}  // namespace ringlet::user
