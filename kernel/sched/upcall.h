// A dispatcher's upcall (syscall_abi.h, kSysUpcall): Barrelfish's upcall /
// a scheduler activation, cut down to what a libOS needs so that the cores
// that depend on its core (the one that owns a single-queue NIC, issue 14)
// are not stalled when its app's code runs without returning to it.
//
// The kernel only looks; the libOS decides what an upcall does. At the end
// of each period in which the dispatcher ran, the kernel reads the app's
// UpcallArea: a libOS that runs (odd `seq`), or that was entered since the
// last look (`seq` moved), is polling by itself. Only when two looks a
// period apart both find the same even `seq` - its app's code ran all
// along - does the kernel save the registers and enter the upcall. Everything here
// belongs to the dispatcher's own hart (like the rest of a dispatcher's
// per-hart state): no lock.
#pragma once

#include <stdint.h>

#include "arch/riscv64/trap_frame.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {

struct UpcallState {
    // "No look due": the largest time, so `now < deadline` holds and a timer
    // armed for it is off (HartLocal::kTimerOff is the same value).
    static constexpr uint64_t kNoLook = ~0ull;

    uint64_t entry = 0;
    uint64_t stack_top = 0;
    uint64_t area = 0;         // the UpcallArea's user address; 0: not armed
    uint64_t period = 0;       // ticks
    uint64_t deadline = kNoLook;  // the next look (ticks); kNoLook: none (not armed, or an upcall runs)
    uint64_t seen_seq = 0;     // `seq` at the last look that found the libOS idle
    bool seen_idle = false;    // whether the last look found it idle (seen_seq is valid)
    bool running = false;      // an upcall runs: `saved` holds the interrupted registers
    bool returning = false;    // its return call is on the way out (switch_dispatchers loads `saved`)
    uint64_t delivered = 0;    // upcalls entered so far
    TrapFrame saved{};

    bool armed() const { return area != 0; }
    void arm(uint64_t entry_pc, uint64_t stack, uint64_t area_va, uint64_t ticks, uint64_t now);
    void disarm();
};

enum class UpcallVerdict : uint8_t {
    NotDue,   // not armed, an upcall runs, or the period has not passed
    Rearm,    // looked: the libOS runs by itself; the next look is a period away
    Deliver,  // enter the upcall now (the caller saves the registers)
};

// The look at time `now`, with `area` what the UpcallArea holds (nullptr:
// it could not be read - unmapped since - which disarms). Updates `s`
// (the next deadline, what was seen); on Deliver the caller enters the
// upcall and calls upcall_entered().
UpcallVerdict judge_upcall(UpcallState& s, uint64_t now, const UpcallArea* area);

// Bookkeeping of an upcall entered / returned from at `now`.
void upcall_entered(UpcallState& s);
void upcall_returned(UpcallState& s, uint64_t now);

}  // namespace ringlet
