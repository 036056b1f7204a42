// Running apps: creating dispatchers, entering U-mode, switching between
// dispatchers on a hart, and ending them (exit or fault).
#pragma once

#include <stdint.h>

#include "kernel/obj/dispatcher.h"
#include "ringlet/result.h"

namespace ringlet {

struct HartLocal;

// A fresh dispatcher named `name` with an empty address space, not yet
// runnable. The pool is shared by all harts (control plane only, locked).
Result<Dispatcher*> create_dispatcher(const char* name, uint64_t kernel_root);

// Records that `d` owns frames [pa, pa + count pages); they are freed when it dies.
Result<void> dispatcher_own_frames(Dispatcher* d, uint64_t pa, uint64_t count);

// Makes `d` runnable on hart `local`. Before that hart runs (boot), the boot
// hart may call this directly; afterwards only the hart itself does.
void place_dispatcher(HartLocal& local, Dispatcher* d);

// This hart's scheduling loop: runs its dispatchers, sleeps when none can run.
[[noreturn]] void run_dispatchers(HartLocal& local);

// Ends the current dispatcher with `code` (exit syscall or fault).
void end_current(HartLocal& local, int64_t code);

// Frees a dispatcher that never ran (a failed load).
void discard_dispatcher(Dispatcher* d);

// The live dispatcher with `id` (any hart), or nullptr. The pointer stays
// valid only while the caller holds the CapSpace lock and the dispatcher's
// caps are not closed (release_caps runs under that lock before it is freed).
Dispatcher* find_dispatcher(uint32_t id);

// Raises notification `bit` of `d` if it is still the dispatcher `id`. Only
// on d's own hart (the Notify message brings it there).
void notify_dispatcher(Dispatcher* d, uint32_t id, uint32_t bit);

// The number of dispatchers still alive on all harts.
uint32_t live_dispatchers();

// Power the machine off (code 0) when the last dispatcher ends.
void shutdown_when_all_done(bool enable);

}  // namespace ringlet
