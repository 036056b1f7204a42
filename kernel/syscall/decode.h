// Syscall decoding: the first half of every system call (decode, then invoke).
//
// decode_syscall() turns the raw registers of an ecall (number in a7,
// arguments a0..a5, see include/ringlet/syscall_abi.h) into a typed
// SyscallRequest, or an Error. It checks everything that can be checked
// before doing any work: the number, every argument's domain, that unused
// argument registers are zero (reserved for extension), every user pointer
// range (inside the user half, no wrap-around, then readable or writable in
// the caller's address space), and every capability (present, right type,
// needed rights). Small user inputs (the debug text, an app name) are copied
// in here, once, so invoke never reads user memory twice. Decode changes no
// state; invoke (the kernel integration) must not fail for a reason decode
// could have caught.
//
// Plain logic with no hardware: the caller's memory is reached through the
// UserMemory interface and its capabilities through CapSpace, so the host
// tests and the fuzzer drive it with fakes.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap/cap_space.h"
#include "ringlet/cap_types.h"
#include "ringlet/result.h"
#include "ringlet/start_caps.h"
#include "ringlet/syscall_abi.h"

namespace ringlet {

// Limits decode enforces (part of the ABI's documented domains).
inline constexpr size_t kMaxDebugPrint = 256;        // bytes per debug_print
inline constexpr uint64_t kMaxFrameAllocPages = 1024; // 4 MiB per frame cap
inline constexpr size_t kMaxStartLine = 128;         // bytes of a dispatcher_start line ("name args")
inline constexpr uint64_t kNotificationBits = 64;    // notification bits per dispatcher
inline constexpr uint64_t kUserPageSize = 4096;

// The calling app's memory, as the decoder sees it. The kernel implements it
// over the caller's AddressSpace; tests implement it over a buffer. The
// defaults refuse everything, so a forgotten override fails closed.
class UserMemory {
public:
    // Copies `size` bytes at user address `src` into `dst`; BadAddress if any
    // byte is not readable by the app. Called only on ranges already checked
    // to lie inside the user half.
    virtual Result<void> copy_in(void* dst, uint64_t src, size_t size) const;
    // Ok if the app may write all of [addr, addr + size); BadAddress if not.
    virtual Result<void> check_writable(uint64_t addr, size_t size) const;

protected:
    ~UserMemory() = default;
};

// What decode needs to know about the caller and the machine.
struct DecodeContext {
    CapSpace* caps;            // the machine's capabilities (caller holds its table's lock)
    uint16_t table;            // the caller's CapTable
    const UserMemory* memory;  // the caller's address space
    uint64_t user_top;         // first address above the user half
    uint32_t hart_count;       // harts the machine has (a hart cap names one of them)
};

// A capability named by the caller, already looked up and checked. `node`
// stays valid while the table lock taken for decode is held through invoke
// (a node is freed only under its table's lock).
struct CheckedCap {
    CapIndex index;
    CapNode* node;
};

struct DebugPrintRequest { size_t len; char text[kMaxDebugPrint]; };
struct ExitRequest { int64_t code; };
// upcall: op, and for kUpcallArm where and how often (syscall_abi.h).
struct UpcallRequest { uint64_t op; uint64_t entry, stack_top, area, period; };
struct WaitRequest { uint64_t mask; uint64_t deadline; };
struct CapRequest { CheckedCap cap; };                       // identify, delete, revoke, phys
// `target` is the dispatcher cap whose app receives the child (node nullptr:
// the caller's own table); `budget` (bytes, memory caps only, 0: none) makes
// the child a pool of its own, carved from cap's.
struct CapMintRequest { CheckedCap cap; uint32_t rights; CheckedCap target; uint64_t budget; };
// `memory`: the memory cap whose budget pays (decode checked it has enough).
struct FrameAllocRequest { CheckedCap memory; uint64_t pages; uint32_t flags; };
struct FrameMapRequest { CheckedCap cap; uint64_t va; uint32_t perm; };
struct ChannelCreateRequest { CheckedCap frame; };
enum class ChannelOp : uint8_t { Notify = 0, Bind = 1 };
struct ChannelControlRequest { CheckedCap channel; ChannelOp op; uint32_t bit; };
enum class IrqOp : uint8_t { Ack = 0, Bind = 1 };
struct IrqControlRequest { CheckedCap device; IrqOp op; uint32_t bit; };
// `line`: "name args..." (name_len bytes of name, then a space and the
// arguments, if any); `hart`: the dense index the hart cap named; `gifts`:
// the caps whose children the new app receives. Decode checked every cap,
// but invoke runs unlocked while it loads the app, so the gifts are looked
// up again under the lock taken after loading.
struct DispatcherStartRequest {
    size_t line_len;
    size_t name_len;
    char line[kMaxStartLine];
    uint32_t hart;
    uint32_t gift_count;
    StartGift gifts[kMaxStartGifts];
};

// A new dispatcher of the caller's app on `hart` (kernel/sched/dispatch.h).
struct DispatcherSpanRequest {
    uint32_t hart;
    uint64_t entry, stack_top, thread_pointer, arg;
};

// One decoded call: `number` says which member of the union is meaningful.
struct SyscallRequest {
    SyscallNumber number;
    union {
        DebugPrintRequest debug_print;
        ExitRequest exit;
        WaitRequest wait;
        UpcallRequest upcall;
        CapRequest cap;          // kSysCapIdentify, kSysCapDelete, kSysCapRevoke,
                                 // kSysFrameUnmap, kSysFramePhys
        CapMintRequest mint;
        FrameAllocRequest frame_alloc;
        FrameMapRequest frame_map;
        ChannelCreateRequest channel_create;
        ChannelControlRequest channel;
        IrqControlRequest irq;
        DispatcherStartRequest dispatcher_start;
        DispatcherSpanRequest dispatcher_span;
    };
};

// The raw registers of one ecall.
struct SyscallArgs {
    uint64_t number;  // a7
    uint64_t a[6];    // a0..a5
};

// The calls that touch no capability (debug_print, exit, wait) have their own
// decoders: the kernel runs them on a fast path that takes no CapSpace lock
// and builds no SyscallRequest (whose union is sized by the largest call).
// decode_syscall uses the same functions for these numbers, so both paths
// accept and refuse exactly the same arguments.

// Ok if arguments a[first..5] are zero: they are reserved, so that a later
// ABI can give them meaning without old binaries passing garbage there.
// (Inline, and one test rather than a branch per register: the fast path.)
inline Result<void> unused_from(const SyscallArgs& args, int first) {
    uint64_t any = 0;
    for (int i = first; i < 6; ++i) any |= args.a[i];
    if (any != 0) return Error::InvalidArgument;
    return ok();
}

// wait: a0 = mask, a1 = deadline; a2..a5 must be 0. InvalidArgument for a
// nonzero reserved register or for no bit and no deadline (a sleep forever).
inline Result<WaitRequest> decode_wait(const SyscallArgs& args) {
    TRY(unused_from(args, 2));
    if (args.a[0] == 0 && args.a[1] == 0) return Error::InvalidArgument;
    return WaitRequest{args.a[0], args.a[1]};
}
// exit: a0 = code; a1..a5 must be 0.
inline Result<ExitRequest> decode_exit(const SyscallArgs& args) {
    TRY(unused_from(args, 1));
    return ExitRequest{static_cast<int64_t>(args.a[0])};
}
// debug_print: a0 = length (<= kMaxDebugPrint), a1 = text; a2..a5 must be 0.
// Copies the text into `out` through `memory` (nothing else of `ctx` is
// used: no capability, so no lock is needed).
Result<void> decode_debug_print(const SyscallArgs& args, const UserMemory& memory, uint64_t user_top,
                                DebugPrintRequest& out);
// upcall: a0 = op; for kUpcallArm a1 = entry, a2 = stack top, a3 = the
// UpcallArea, a4 = period (ticks); every other register 0. InvalidArgument
// for an unknown op, a misaligned stack or area, a zero period or one of
// 2^40 ticks or more; BadAddress for an entry or stack outside the user
// half, or an area that is not mapped writable (checked through `memory`).
Result<UpcallRequest> decode_upcall(const SyscallArgs& args, const UserMemory& memory, uint64_t user_top);
// True for the calls above (their numbers, whatever the arguments).
constexpr bool is_capability_free(uint64_t number) {
    return number == kSysDebugPrint || number == kSysExit || number == kSysWait || number == kSysUpcall;
}

// Decodes and checks one system call made by the app described by `ctx`.
// Errors: Unsupported for a number outside the ABI; InvalidArgument for an
// argument outside its domain or a nonzero unused register; BadAddress for a
// user range that is outside the user half or not accessible; BadCapability,
// WrongType, NoRights from capability checks; Busy / NotFound where the
// state of a capability already rules the call out (map of a mapped cap,
// unmap of an unmapped one); OutOfMemory where a memory cap's budget is
// short (frame_alloc, a budgeted cap_mint).
Result<SyscallRequest> decode_syscall(const SyscallArgs& args, const DecodeContext& ctx);

// Ok if [addr, addr + size) lies inside [kUserPageSize, user_top) without
// wrapping; BadAddress otherwise. (Page 0 is never user memory.)
Result<void> check_user_range(uint64_t addr, uint64_t size, uint64_t user_top);

}  // namespace ringlet
