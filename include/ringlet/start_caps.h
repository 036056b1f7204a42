// What an app starts with, and what a starter hands it: shared by the kernel,
// user/rt and the libOS (C-compatible).
//
// At entry (syscall_abi.h) a4 holds the user address of an array of StartCap
// on the app's stack and a5 their count: every capability the app holds when
// it starts. An app started by init= gets the boot's root capabilities (see
// the README): a memory budget, one hart cap per hart, the initrd image cap,
// and the device caps the boot line names for it. An app started by
// dispatcher_start gets exactly the starter's gifts, in order.
#pragma once

#include <stdint.h>

#include "ringlet/cap_types.h"

#ifdef __cplusplus
namespace ringlet {
#endif

enum
#ifdef __cplusplus
    : uint32_t
#endif
{
    kMaxStartCaps = 64,  // entries the kernel reserves on a new app's stack (1 KiB)
    kMaxStartGifts = 4,  // gifts one dispatcher_start may hand over
};

// Where a start capability came from.
enum
#ifdef __cplusplus
    : uint8_t
#endif
{
    kStartFromBoot = 0,  // a root capability init= apps receive at boot
    kStartGift = 1,      // handed over by the starter's dispatcher_start
};

struct StartCap {
    CapIndex index;     // in the app's own table
    uint8_t type;       // CapType
    uint8_t origin;     // kStartFromBoot / kStartGift
    uint16_t reserved;  // 0
    // Device: the virtio-mmio slot (FDT order); Hart: the dense hart index;
    // a gift: its position in the starter's gift list; otherwise 0.
    uint32_t tag;
};

// One entry of dispatcher_start's gift list (a4 = its user address, a5 =
// count <= kMaxStartGifts): the new app receives a child of `cap` (which
// needs Grant) with `rights` (ANDed with cap's).
struct StartGift {
    CapIndex cap;
    uint32_t rights;
    uint32_t reserved;  // 0
};

#ifdef __cplusplus
static_assert(sizeof(StartCap) == 16, "StartCap is part of the app start ABI");
static_assert(sizeof(StartGift) == 16, "StartGift is part of the dispatcher_start ABI");
}  // namespace ringlet
#else
_Static_assert(sizeof(struct StartCap) == 16, "StartCap is part of the app start ABI");
_Static_assert(sizeof(struct StartGift) == 16, "StartGift is part of the dispatcher_start ABI");
#endif
