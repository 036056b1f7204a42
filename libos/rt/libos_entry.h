// Whether this core's libOS code is running, for the kernel's upcall look
// (user/rt/upcall.h, kernel/sched/upcall.h). Every way an app enters the
// libOS (the demi_* and ringlet_* C functions) holds a LibosEntry, which
// adds 1 to the core's `seq` on the way in and again on the way out: odd
// while the libOS runs, and moved by every call. An app whose code runs a
// whole period with the same even `seq` never called the libOS in that
// time - its own code runs on - and only then may an upcall run libOS code
// in its place: nothing of the libOS is half-way through a change.
//
// It is on every call's path, so it is kept to three instructions each way
// on Ringlet: the area is the first word of the core's thread-local block
// (user.ld puts .tdata.ringlet_tp0 first), at 0(tp), so a mark is a load,
// an add and a store with no address to build. Entries do not nest (no
// demi_* function calls another; host builds check it). The area is this
// core's alone; the kernel reads it on this core's hart, between two of its
// instructions, so stores in program order are all it takes.
#pragma once

#include <stdint.h>

#include "ringlet/syscall_abi.h"

#if __STDC_HOSTED__ && !defined(RINGLET_FREESTANDING)
#include <stdlib.h>
#define RINGLET_LIBOS_AREA_AT_TP 0
#else
#define RINGLET_LIBOS_AREA_AT_TP 1
#endif

namespace ringlet::rt {

#if RINGLET_LIBOS_AREA_AT_TP
[[gnu::section(".tdata.ringlet_tp0")]] inline thread_local UpcallArea t_libos_area{};
#else
inline thread_local UpcallArea t_libos_area{};
#endif

class LibosEntry {
public:
    LibosEntry() {
#if !RINGLET_LIBOS_AREA_AT_TP
        if (t_libos_area.seq & 1) abort();  // nested: the kernel would see the libOS as left while it runs
#endif
        step();
    }
    ~LibosEntry() { step(); }
    LibosEntry(const LibosEntry&) = delete;
    LibosEntry& operator=(const LibosEntry&) = delete;

private:
    static void step() {
#if RINGLET_LIBOS_AREA_AT_TP
        asm volatile("ld t0, 0(tp)\n addi t0, t0, 1\n sd t0, 0(tp)" ::: "t0", "memory");
#else
        volatile uint64_t& seq = t_libos_area.seq;
        seq = seq + 1;
        asm volatile("" ::: "memory");
#endif
    }
};

}  // namespace ringlet::rt
