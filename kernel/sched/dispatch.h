// Running apps: creating dispatchers, entering U-mode, switching between
// dispatchers on a hart, and ending them (exit or fault).
#pragma once

#include <stdint.h>

#include "kernel/arch.h"
#include "kernel/obj/dispatcher.h"
#include "kernel/syscall/decode.h"
#include "kernel/smp/hart_local.h"
#include "ringlet/result.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {

// A fresh dispatcher named `name` with an empty address space, not yet
// runnable. The pool is shared by all harts (control plane only, locked).
Result<Dispatcher*> create_dispatcher(const char* name, uint64_t kernel_root);

// Records that `d` owns frames [pa, pa + count pages); they are freed when it dies.
Result<void> dispatcher_own_frames(Dispatcher* d, uint64_t pa, uint64_t count);

// Makes `d` runnable on hart `local`. Before that hart runs (boot), the boot
// hart may call this directly; afterwards only the hart itself does. A member
// of a domain that is ending is ended instead.
void place_dispatcher(HartLocal& local, Dispatcher* d);

// Where a new member of a spanned app starts: its own stack and thread-local
// block (tp), and one argument (a1; a0 is the hart index).
struct SpanStart {
    uint64_t entry;
    uint64_t stack_top;
    uint64_t thread_pointer;
    uint64_t arg;
};
// A new dispatcher of `from`'s app on hart `hart_index` (not yet placed):
// same address space, capabilities and frames. The caller has checked the
// authority (a Hart cap with Run, kernel/cap/boot_caps.h). Busy if the app
// already runs there; BadCapability if it is ending; OutOfRange for a hart
// the machine lacks; Full when no dispatcher is free.
Result<Dispatcher*> span_dispatcher(Dispatcher& from, size_t hart_index, const SpanStart& start);

// The harts `d`'s starter asked it to run on (bit = dense index; init=@N-M).
uint64_t domain_placement_harts(Dispatcher& d);

// The HartFeature bits a user state made by arch::init_user_frame starts
// with (a6 at an app's start, a2 at a spanned core's; syscall_abi.h).
inline uint64_t start_features(const TrapFrame& frame) {
    return arch::user_vector_on(frame) ? uint64_t{kHartFeatureVector} : 0;
}

// Ends dispatcher `d` (if it is still `id`) because another member of its
// app ended. Only on d's own hart (the EndDispatcher message brings it there).
void kill_dispatcher(Dispatcher* d, uint32_t id);

// This hart's scheduling loop: runs its dispatchers, sleeps when none can run.
[[noreturn]] void run_dispatchers(HartLocal& local);

static_assert(UpcallState::kNoLook == HartLocal::kTimerOff, "no upcall look due means the timer is off");

// Sets this hart's timer to `at` (HartLocal::kTimerOff: off), unless it is
// set to that already: most returns to U-mode change nothing, and a write is
// an SBI call where the hart has no Sstc.
void write_timer(HartLocal& local, uint64_t at);
inline void arm_timer(HartLocal& local, uint64_t at) {
    if (at != local.timer_armed) write_timer(local, at);
}

// return_to_user_keeps_current when others share the hart (wakes the
// blocked dispatchers that are due, checks the slice).
bool keeps_current_among_others(HartLocal& local);

// Whether the dispatcher running on `local` goes on when this hart returns
// to U-mode (it is runnable, its slice has not run out while others wait);
// if so, its timer is armed. Wakes the blocked dispatchers that are due.
inline bool return_to_user_keeps_current(HartLocal& local) {
    Scheduler& s = local.sched;
    Dispatcher* cur = s.current();
    if (!cur || cur->state != DispatcherState::Runnable) return false;
    if (s.has_waiting() || s.has_blocked()) return keeps_current_among_others(local);
    // Alone on the hart, nobody to wake: no slice, no deadline but its
    // upcall's look, and no need to read the time (the common case of a
    // syscall that returns at once).
    s.set_slice_end(0);
    arm_timer(local, cur->upcall.deadline);  // kNoLook == kTimerOff: off
    return true;
}

// kSysUpcall for the current dispatcher `d` (kernel/sched/upcall.h): arms,
// disarms, or - kUpcallReturn - asks for the interrupted registers back.
// True if the call returns to `d` as usual; false if the hart must take the
// switch path (a return: switch_dispatchers loads the saved registers).
Result<bool> invoke_upcall(Dispatcher& d, const UpcallRequest& req);

// Ends the current dispatcher with `code` (exit syscall or fault); every other
// dispatcher of its app ends with it.
void end_current(HartLocal& local, int64_t code);

// Frees a dispatcher that never ran (a failed load).
void discard_dispatcher(Dispatcher* d);

// The live dispatcher with `id` (any hart), or nullptr. Its slot stays (the
// pool is static) but the dispatcher may end meanwhile: under the derivation
// lock (kernel/cap/machine_caps.h) it is still there while its caps are not
// closed (release_caps closes them under that lock before it is freed);
// without it, a user checks the id again where it acts (notify_dispatcher).
Dispatcher* find_dispatcher(uint32_t id);

// Raises notification `bit` of `d` if it is still the dispatcher `id`. Only
// on d's own hart (the Notify message brings it there).
void notify_dispatcher(Dispatcher* d, uint32_t id, uint32_t bit);

// The harts where the address space of the app whose CapTable is `table`
// may be live (its domain's member_harts, members in flight included): where
// a TLB shootdown for a mapping made through that table must go. 0 for a
// table no app owns (the kernel's).
uint64_t table_member_harts(uint32_t table);

// The number of dispatchers still alive on all harts.
uint32_t live_dispatchers();

// Power the machine off (code 0) when the last dispatcher ends.
void shutdown_when_all_done(bool enable);

}  // namespace ringlet
