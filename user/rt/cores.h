// Running one app on several harts. The kernel starts an app on one hart;
// it spans itself onto others (those `init=NAME@0-3` asks for), one
// dispatcher per hart in the same address space. The right to run on a hart
// is a Hart capability (init= apps hold one per hart). Each further core gets its
// own stack and thread-local block (so its own libOS instance: per-core
// state is thread_local) and runs `fn(arg)`. When any core exits or faults,
// the app ends on every hart.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::user {

inline constexpr uint32_t kMaxCores = 8;

// The harts this app's starter asked it to run on (bit i = dense hart
// index i), its own included.
uint64_t placement_harts();

// Starts `fn(arg)` on hart `hart_index` as a new core of this app. NotFound
// if the app holds no Hart cap for it (NoRights: one without Run); Busy if
// the app runs there already; OutOfMemory if no stack or thread-local block
// is left. fn returning exits the app with its value.
using CoreMain = int (*)(void* arg);
Result<void> start_core(uint32_t hart_index, CoreMain fn, void* arg);

// Starts fn on each other hart of placement_harts() (ours skipped), the
// i-th one with arg = (void*)i (i = 1, 2, ...), at most up to `max_cores`
// cores in all. A hart that cannot be started is reported on the console
// (as `who`) and skipped. Returns the cores running now, this one included.
uint32_t start_placed_cores(CoreMain fn, uint32_t max_cores, const char* who);

}  // namespace ringlet::user
