// The invoke half of the calls that name capabilities, one family per file:
//   cap_calls.cc         cap_identify, cap_mint, cap_delete, cap_revoke
//   frame_calls.cc       frame_alloc, frame_map, frame_unmap, frame_phys
//   channel_calls.cc     channel_create, channel_control
//   device_calls.cc      device_claim, irq_control
//   dispatcher_calls.cc  dispatcher_start, dispatcher_span
// syscall_entry.cc decodes (decode.h) and calls them. Each one's
// precondition: `guard` holds the locks lock_scope() names for the call (an
// invoke that changes the derivation forest asserts it holds that lock) and
// `req` came from decode_syscall for `d`'s table under the same guard, so
// every capability in it is still there; an invoke fails only for what
// decode could not know (memory ran out, a table is full). Each returns
// Unsupported for a request outside its family.
#pragma once

#include <stdint.h>

#include "kernel/cap/machine_caps.h"
#include "kernel/obj/dispatcher.h"
#include "kernel/syscall/decode.h"
#include "ringlet/result.h"

namespace ringlet {

// The locks a call that names capabilities needs (machine_caps.h): the
// derivation lock for those that change the forest or a mapping, the
// caller's table alone for the rest.
constexpr CapScope lock_scope(uint64_t number) {
    switch (number) {
    case kSysCapMint:
    case kSysCapDelete:
    case kSysCapRevoke:
    case kSysFrameAlloc:
    case kSysFrameMap:
    case kSysFrameUnmap:
    case kSysChannelCreate: return CapScope::Tree;
    default: return CapScope::Table;
    }
}

Result<uint64_t> invoke_cap_call(CapGuard& guard, Dispatcher& d, const SyscallRequest& req);
// frame_alloc is not among them: see frame_alloc_zeroed below.
Result<uint64_t> invoke_frame_call(CapGuard& guard, Dispatcher& d, const SyscallRequest& req);
Result<uint64_t> invoke_channel_call(CapGuard& guard, Dispatcher& d, const SyscallRequest& req);
Result<uint64_t> invoke_device_call(CapGuard& guard, Dispatcher& d, const SyscallRequest& req);

// Frames taken from the machine's pool and zeroed, with no lock held (4 MiB
// of zeroing must not stall other harts); given back unless taken.
class ZeroedFrames {
public:
    static Result<ZeroedFrames> take(uint64_t pages);
    ZeroedFrames(ZeroedFrames&& other) : m_pa(other.m_pa), m_pages(other.m_pages) { other.m_pages = 0; }
    ZeroedFrames(const ZeroedFrames&) = delete;
    ZeroedFrames& operator=(const ZeroedFrames&) = delete;
    ~ZeroedFrames();
    uint64_t pa() const { return m_pa; }
    uint64_t pages() const { return m_pages; }
    void keep() { m_pages = 0; }  // now owned by a frame cap

private:
    ZeroedFrames(uint64_t pa, uint64_t pages) : m_pa(pa), m_pages(pages) {}
    uint64_t m_pa;
    uint64_t m_pages;
};
// frame_alloc's invoke: `frames` (req.pages of them, zeroed before `guard`
// was taken) become a frame cap drawn from the memory cap.
Result<uint64_t> invoke_frame_alloc(CapGuard& guard, Dispatcher& d, const FrameAllocRequest& req,
                                    ZeroedFrames& frames);

// dispatcher_start runs unlocked: loading an app may itself take the lock
// (a failed load releases the app). It takes the guard only to hand over the
// capabilities, between loading the app and making it runnable.
Result<uint64_t> invoke_dispatcher_start(Dispatcher& starter, const DispatcherStartRequest& req);
// dispatcher_span: a new core of the caller's app on the hart its Hart cap names
// (kernel/sched/dispatch.h span_dispatcher), made runnable there. Unlocked:
// it takes only the dispatcher pool's lock.
Result<uint64_t> invoke_dispatcher_span(Dispatcher& d, const DispatcherSpanRequest& req);

}  // namespace ringlet
