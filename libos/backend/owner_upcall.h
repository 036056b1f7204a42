// Core 0's upcall when the app spans cores that share its NIC (core_mesh.h):
// over one queue pair every frame passes through core 0, and with a pair
// per core (RSS) core 0 holds the device's one interrupt line and rings the
// sleeping cores whose pair has frames. Without it, core 0's app code
// spinning - never returning to its libOS - would leave every other core
// without frames (one pair) or asleep on them (RSS, until a 100 ms cap). Armed, the kernel interrupts
// such an app every kOwnerUpcallNs (user/rt/upcall.h) and the upcall polls
// core 0's devices once over: it steers the received frames to their cores
// (and into core 0's own stack, whose app will find them when it comes
// back), posts the other cores' frames, rings their doorbells. Safe because
// the kernel enters it only when the app was outside the libOS a whole
// period (libos/rt/libos_entry.h): no libOS state is half-changed.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::backend {

// 200 us: short enough that app work of a few hundred microseconds per
// request does not hold the other cores' frames for all of it (README,
// Scaling: 2 harts over one queue pair 1.84x at 500 us of work against 1.67x
// with 2 ms); each look costs the kernel ~300 instructions while core 0 runs.
inline constexpr uint64_t kOwnerUpcallNs = 200'000;
// Rounds of polling per upcall: at most this many device batches.
inline constexpr uint32_t kOwnerUpcallRounds = 8;

// On core 0, after its libOS is up: arms the upcall (a message, not an
// error, if the kernel refuses: the cores then depend on core 0's app).
void arm_owner_upcall();
// On core 0 as it closes.
void disarm_owner_upcall();

}  // namespace ringlet::backend
