// Platform hooks behind lwIP's sys_now, LWIP_RAND and assertion macros.
#pragma once

#include <stdint.h>

namespace ringlet::net {

// Monotonic nanoseconds from the executor's platform.
using ClockFn = uint64_t (*)(void* ctx);
using ReportFn = void (*)(const char* message);

// Sets the clock sys_now() reads (nullptr: time stands still at 0).
void set_clock(ClockFn fn, void* ctx);
// The current time from that clock, in nanoseconds.
uint64_t clock_ns();
// Mixes `seed` into LWIP_RAND's state (call with something per-boot).
void seed_random(uint64_t seed);
// How many lwIP assertions failed since the process started.
uint32_t lwip_assert_count();
// Where assertion reports go (nullptr: stderr on the host, dropped on the
// target until the libOS installs its console).
void set_report_hook(ReportFn fn);
// Sends one line to the report hook.
void report(const char* message);

}  // namespace ringlet::net
