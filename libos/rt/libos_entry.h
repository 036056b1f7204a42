// Whether this core's libOS code is running, for the kernel's upcall look
// (user/rt/upcall.h, kernel/sched/upcall.h). Every way an app enters the
// libOS (the demi_* and ringlet_* C functions) holds a LibosEntry: `busy`
// is up while it runs and `entries` counts each return to the app. An app
// whose code runs a whole period with busy == 0 and the same count never
// called the libOS in that time - its own code runs on - and only then may
// an upcall run libOS code in its place: nothing of the libOS is half-way
// through a change. The area is this core's alone; the kernel reads it on
// this core's hart, between two of its instructions, so plain (volatile)
// stores in program order are all it takes.
#pragma once

#include <stdint.h>

#include "ringlet/syscall_abi.h"

namespace ringlet::rt {

inline thread_local UpcallArea t_libos_area{};

class LibosEntry {
public:
    LibosEntry() {
        auto& a = const_cast<volatile UpcallArea&>(t_libos_area);
        a.busy = a.busy + 1;
        asm volatile("" ::: "memory");
    }
    ~LibosEntry() {
        asm volatile("" ::: "memory");
        auto& a = const_cast<volatile UpcallArea&>(t_libos_area);
        a.entries = a.entries + 1;
        a.busy = a.busy - 1;
    }
    LibosEntry(const LibosEntry&) = delete;
    LibosEntry& operator=(const LibosEntry&) = delete;
};

}  // namespace ringlet::rt
