// The invoke half of the calls that name capabilities, one family per file:
//   cap_calls.cc         cap_identify, cap_mint, cap_delete, cap_revoke
//   frame_calls.cc       frame_alloc, frame_map, frame_unmap, frame_phys
//   channel_calls.cc     channel_create, channel_control
//   device_calls.cc      device_claim, irq_control
//   dispatcher_calls.cc  dispatcher_start, dispatcher_span
// syscall_entry.cc decodes (decode.h) and calls them. Each one's
// precondition: `guard` is held and `req` came from decode_syscall for `d`'s
// table under the same guard, so every capability in it is still there; an
// invoke fails only for what decode could not know (memory ran out, a table
// is full). Each returns Unsupported for a request outside its family.
#pragma once

#include <stdint.h>

#include "kernel/cap/machine_caps.h"
#include "kernel/obj/dispatcher.h"
#include "kernel/syscall/decode.h"
#include "ringlet/result.h"

namespace ringlet {

Result<uint64_t> invoke_cap_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req);
Result<uint64_t> invoke_frame_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req);
Result<uint64_t> invoke_channel_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req);
Result<uint64_t> invoke_device_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req);

// dispatcher_start runs unlocked: loading an app may itself take the lock
// (a failed load releases the app). It takes the guard only to hand over the
// capabilities, between loading the app and making it runnable.
Result<uint64_t> invoke_dispatcher_start(Dispatcher& starter, const DispatcherStartRequest& req);
// dispatcher_span: a new core of the caller's app on the hart its Hart cap names
// (kernel/sched/dispatch.h span_dispatcher), made runnable there. Unlocked:
// it takes only the dispatcher pool's lock.
Result<uint64_t> invoke_dispatcher_span(Dispatcher& d, const DispatcherSpanRequest& req);

}  // namespace ringlet
