// The few symbols lwIP's NO_SYS core needs from its platform: sys_now (from
// the clock net::stack_init was given), LWIP_RAND and the assertion/diag
// hooks named in arch/cc.h. Written for Ringlet from lwIP's doc/NO_SYS and
// sys_arch.txt descriptions.
#include "net/lwip/sys_glue.h"

#include "lwip/arch.h"
#include "lwip/sys.h"

#if !RINGLET_FREESTANDING
#include <stdio.h>
#endif

namespace ringlet::net {

namespace {
ClockFn g_clock = nullptr;
void* g_clock_ctx = nullptr;
uint64_t g_rand_state = 0x9e3779b97f4a7c15ull;
uint32_t g_asserts = 0;
ReportFn g_report = nullptr;
}  // namespace

void set_clock(ClockFn fn, void* ctx) {
    g_clock = fn;
    g_clock_ctx = ctx;
}

uint64_t clock_ns() { return g_clock != nullptr ? g_clock(g_clock_ctx) : 0; }

void seed_random(uint64_t seed) {
    // xorshift must not start at zero.
    g_rand_state ^= seed * 0xbf58476d1ce4e5b9ull;
    if (g_rand_state == 0) g_rand_state = 0x9e3779b97f4a7c15ull;
}

uint32_t lwip_assert_count() { return g_asserts; }

void set_report_hook(ReportFn fn) { g_report = fn; }

void report(const char* message) {
    if (g_report != nullptr) {
        g_report(message);
        return;
    }
#if !RINGLET_FREESTANDING
    fputs(message, stderr);
    fputc('\n', stderr);
#endif
}

}  // namespace ringlet::net

extern "C" {

// lwIP wants wrapping milliseconds.
u32_t sys_now(void) { return static_cast<u32_t>(ringlet::net::clock_ns() / 1000000u); }

// xorshift64*: ports and ISNs need to differ between runs, not to be secret
// (lwIP 2.1 derives TCP ISNs from its own counters; see the final report).
uint32_t ringlet_lwip_rand(void) {
    uint64_t x = ringlet::net::g_rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ringlet::net::g_rand_state = x;
    return static_cast<uint32_t>((x * 0x2545f4914f6cdd1dull) >> 32);
}

// An lwIP assertion states an internal invariant; with LWIP_NOASSERT unset
// lwIP keeps going after the macro, and most asserted paths then bail out
// with an error. Stopping the app on one would let a hostile packet kill a
// server, so count it, report it and continue; tests require zero.
void ringlet_lwip_assert(const char* message, const char* file, int line) {
    ++ringlet::net::g_asserts;
    (void)file;
    (void)line;
    ringlet::net::report("assertion failed:");  // its own line: a console check can look for it
    ringlet::net::report(message);
}

void ringlet_lwip_diag(const char* message) { ringlet::net::report(message); }

}  // extern "C"
