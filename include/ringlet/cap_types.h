// Capability types and rights, shared by the kernel and user space.
//
// A capability is named by a CapIndex: the slot in the app's CapTable in the
// low 16 bits and the slot's generation above it, so an index kept after the
// slot was freed and reused is detected as stale, not silently obeyed.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
namespace ringlet {
#endif

typedef uint64_t CapIndex;

enum CapType
#ifdef __cplusplus
    : uint8_t
#endif
{
    kCapNull = 0,
    kCapFrame = 1,   // physical memory: map it, read its physical address (DMA)
    kCapDevice = 2,  // a device's MMIO registers (mappable like a frame) and its interrupt line
    kCapChannel = 3, // a channel: two SPSC rings in a shared frame plus a notification
    kCapDispatcher = 4, // another app: Grant on it lets caps be minted into its table
    kCapMemory = 5,  // a memory budget in bytes: frame_alloc draws frames from it (Alloc)
    kCapHart = 6,    // a hart: the right to run a dispatcher there (Run)
    kCapImage = 7,   // the initrd's app images: the right to start them (Exec)
};

// Rights only ever shrink: a minted child has at most its parent's rights.
enum CapRights
#ifdef __cplusplus
    : uint32_t
#endif
{
    kRightRead = 1u << 0,   // map readable
    kRightWrite = 1u << 1,  // map writable
    kRightExec = 1u << 2,   // map executable; image: start apps from it
    kRightMap = 1u << 3,    // map at all
    kRightDma = 1u << 4,    // learn the physical address (hand it to a device)
    kRightGrant = 1u << 5,  // mint children from it
    kRightAlloc = 1u << 6,  // memory: draw frames from its budget
    kRightRun = 1u << 7,    // hart: start a dispatcher on it
    kRightAll = 0xff,
    // What a fresh frame cap carries (Alloc and Run mean nothing for memory).
    kRightFrameAll = kRightRead | kRightWrite | kRightExec | kRightMap | kRightDma | kRightGrant,
};

// frame_alloc flags.
enum
#ifdef __cplusplus
    : uint32_t
#endif
{ kFrameContiguous = 1u << 0 };

// The ABI's sizes: these values cross the kernel/user boundary in registers
// and in channel messages, from C and C++ alike.
#ifdef __cplusplus
static_assert(sizeof(CapIndex) == 8, "CapIndex is one register");
static_assert(sizeof(CapType) == 1, "CapType is one byte of cap_identify's value");
static_assert(sizeof(CapRights) == 4, "CapRights fits cap_identify's bits 8..39");
}  // namespace ringlet
#else
_Static_assert(sizeof(CapIndex) == 8, "CapIndex is one register");
#endif
