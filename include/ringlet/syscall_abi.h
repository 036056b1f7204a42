// Ringlet's system call ABI: the single definition shared by the kernel and
// the libOS (C-compatible so plain C apps can use it too).
//
// Convention (RISC-V ecall from U-mode):
//   a7 = call number (SyscallNumber), a0..a5 = arguments;
//   on return a0 = error (a ringlet::Error value, 0 = ok), a1 = value.
//   Every other register is preserved. A number outside the table is
//   Error::Unsupported (not a fault).
// App start: the kernel enters the ELF entry point in U-mode with sp at the
// top of a 64 KiB stack, a0 = the dense index of its hart, a1 = the timebase
// frequency in Hz (for rdtime), a2 = a NUL-terminated argument string (the
// app's name, then its arguments, separated by spaces) stored on that stack,
// a3 = the first capability its starter handed it (dispatcher_start's first
// gift), or 0; a4/a5 = the user address and count of the StartCap array
// describing every capability it starts with (ringlet/start_caps.h);
// a6 = the hart's features U-mode may use (HartFeature bits, like Linux's
// AT_HWCAP: what the instruction set leaves to the kernel to switch on).
//
// Capabilities are passed as CapIndex values (slot | generation << 16, see
// cap_types.h); user pointers are checked against the caller's address space.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
namespace ringlet {
#endif

enum SyscallNumber
#ifdef __cplusplus
    : uint64_t
#endif
{
    // Print a0=len bytes at a1=ptr on the console (at most 256 per call).
    kSysDebugPrint = 0,
    // End the calling dispatcher with exit code a0. Does not return.
    kSysExit = 1,
    // Block until a notification in mask a0 is pending or the time a1 (in
    // timebase ticks, 0 = none) passes. Returns (value) and clears the
    // pending bits in the mask; 0 when the deadline passed first. First it
    // acknowledges the device interrupts it delivered earlier on bits in a0
    // (as irq_control's ack would): waiting for a bit again says the app has
    // serviced the device, so the next interrupt may come. a2..a5 must be 0.
    kSysWait = 2,
    // Capability operations on the caller's CapTable.
    // a0 = cap → value = type | rights << 8 | info << 32, where info is the
    // size in pages (frame, device, channel), the budget left in pages
    // (memory), the dense hart index (hart), 1 while the app runs (dispatcher).
    kSysCapIdentify = 3,
    // a0 = cap (needs Grant), a1 = rights to keep, a2 = 0: the child goes into
    // the caller's own table; a2 = a dispatcher cap (needs Grant): into that
    // app's table (how authority passes between apps); a3 = budget in bytes
    // (memory caps only, page multiple; 0 for every other type): a memory
    // child with a budget of its own, carved from the parent's (OutOfMemory if
    // more than the parent has left; returned when the child goes). A memory
    // child minted with a3 = 0 draws from its parent's budget. → value = the
    // child's index in the table it went to.
    kSysCapMint = 4,
    kSysCapDelete = 5,     // a0 = cap
    kSysCapRevoke = 6,     // a0 = cap: deletes every descendant (unmapping what they mapped)
    // Frames: physical memory.
    // a0 = memory cap (needs Alloc), a1 = pages, a2 = flags (kFrameContiguous)
    // → value = frame cap, a child of the memory cap, charged to its budget
    // (OutOfMemory when the budget is short) until the frame cap goes.
    kSysFrameAlloc = 7,
    kSysFrameMap = 8,      // a0 = frame cap, a1 = user va, a2 = perm (kMapRead/Write/Exec bits)
    kSysFrameUnmap = 9,    // a0 = frame cap, a1 = user va
    kSysFramePhys = 10,    // a0 = frame cap → value = physical address (needs kRightDma)
    // Channels: two SPSC rings in a shared frame (one per direction; the
    // layout is the libOS's, libos/ipc/channel.h) plus a notification each way.
    // a0 = frame cap (>= 2 pages, needs Read+Write+Map) → value = a channel
    // cap naming the same memory (mappable like the frame, a child of it:
    // revoking the frame revokes the channel).
    kSysChannelCreate = 11,
    // a0 = channel cap, a1 = 1 bind: the caller becomes one end of the
    // channel, woken on notification bit a2 → value = its end (0 or 1; the
    // first binder is end 0); a1 = 0 notify: raise the peer end's bit (held
    // until the peer binds if it has not yet).
    kSysChannelControl = 12,
    // Devices and interrupts.
    // 13 was device_claim (any app took any device by slot index): retired,
    // always Unsupported. Device caps are created at boot and handed to the
    // apps the boot line names.
    kSysRetired13 = 13,
    // a0 = device cap, a1 = 1 bind to notification bit a2 / 0 ack: let the
    // next interrupt in now (optional: the next wait on the bit does it).
    kSysIrqControl = 14,
    // Dispatchers.
    // a0 = image cap (needs Exec), a1/a2 = user address and length of the
    // start line "name arg arg..." (name: an app in the image), a3 = hart cap
    // (needs Run), a4/a5 = user address and count of a StartGift list (count
    // <= kMaxStartGifts; 0: none) → value = a dispatcher cap for the new app
    // (Grant: mint capabilities into its table). The app finds its gifts in
    // its StartCap list (and the first one in a3).
    kSysDispatcherStart = 15,
    // Span the calling app onto the hart that hart cap a0 (Run) names, where
    // it does not run yet: a new dispatcher in the same address space starts
    // at a1 with sp = a2, tp = a3, a0 = its hart index, a1 = a4, a2 = its
    // HartFeature bits → value = 0.
    // Every dispatcher of the app ends when one ends.
    kSysDispatcherSpan = 16,
    // → value = the harts the app's starter asked it to run on (init=NAME@0-3),
    // bit i = dense index i, its own included.
    kSysAppHarts = 17,
    // Upcalls (Barrelfish's dispatcher upcall, a scheduler activation): how
    // a libOS keeps serving what other cores depend on while its app's code
    // runs without returning to it. a0 = UpcallOp:
    //   kUpcallArm: a1 = entry, a2 = stack top (16-byte aligned), a3 = the
    //     user address of an UpcallArea (8-byte aligned, writable), a4 =
    //     period in timebase ticks (nonzero, below 2^40). From then on, each
    //     time a period passes in which the calling dispatcher ran (not
    //     blocked) and its UpcallArea showed the same even `seq` at both
    //     ends - its app's code ran and never entered the libOS -
    //     the kernel saves its registers (all of them, FP and vector too)
    //     and enters `entry` on that stack with a0 = the interrupted pc;
    //     tp and the address space stay. No second upcall while one runs.
    //   kUpcallReturn: from the upcall: the saved registers come back and the
    //     interrupted code goes on as if nothing happened. InvalidArgument
    //     outside an upcall.
    //   kUpcallDisarm: no more upcalls (ok if none was armed).
    // The upcall is the dispatcher's own (each hart of a spanned app arms
    // its own). a5 must be 0 (and a1..a4 for Return and Disarm).
    kSysUpcall = 18,
    kSysCount = 19,
};

enum
#ifdef __cplusplus
    : uint64_t
#endif
{
    kUpcallArm = 0,
    kUpcallReturn = 1,
    kUpcallDisarm = 2,
};

// What the kernel reads (never writes) at the end of each upcall period:
// the libOS adds 1 to `seq` as its code is entered and again as it returns
// to the app, so `seq` is odd while the libOS runs, and "even and unchanged"
// means the app's own code ran the whole period.
struct UpcallArea {
    uint64_t seq;
};

// HartFeature: a6 at an app's start, a2 at a spanned core's start.
enum
#ifdef __cplusplus
    : uint64_t
#endif
{
    // The vector unit (RVV 1.0): the kernel saves and restores the app's
    // vector registers. Without this bit a vector instruction ends the app.
    kHartFeatureVector = 1u << 0,
};

// frame_map permissions (a2). The same bits as the kernel's MapPerm
// (kernel/mm/map_perm.h); kernel/syscall/decode.cc static_asserts that.
enum
#ifdef __cplusplus
    : uint64_t
#endif
{
    kUserMapRead = 1u << 0,
    kUserMapWrite = 1u << 1,
    kUserMapExec = 1u << 2,
};

#ifdef __cplusplus
static_assert(sizeof(SyscallNumber) == 8, "the call number is one register (a7)");
}  // namespace ringlet
#endif
