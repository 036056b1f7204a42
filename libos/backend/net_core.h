// One network stack instance per core (issue 14).
//
// lwIP keeps all its state in C globals (pcb lists, pools, timers, ARP
// table), so two cores cannot run one copy side by side, and a lock around
// it would put every core's packets behind one another. Instead the build
// links several copies of the whole stack - lwIP and the net/ glue over it -
// into the app, each with its symbols renamed (net/CMakeLists.txt: `ld -r`
// of the objects, then `objcopy --redefine-syms` with a per-copy prefix),
// so each copy has its own globals and each core runs its own: nothing of
// the stack is shared. This header is the only way into a copy: the table
// (net_core_table.cc) holds each copy's entry point, and core i opens copy i.
//
// Each copy's lwIP heap is memory the core hands it (lwipopts.h,
// RINGLET_LWIP_PERCORE), not .bss, so unused copies cost an app their code
// and ~200 KiB of pools, not a megabyte each.
#pragma once

#include <stdint.h>

#include "libos/pdpix/queue.h"
#include "libos/rt/platform.h"
#include "net/netif.h"
#include "ringlet/result.h"

namespace ringlet::backend {

// Copies of the stack the app image carries (= cores that can have one).
inline constexpr uint32_t kNetCores = 4;
// Bytes a copy's lwIP heap needs (MEM_SIZE plus lwIP's own bookkeeping).
inline constexpr uint64_t kLwipHeapBytes = (1u << 20) + 4096;

struct NetCoreConfig {
    rt::Platform* platform = nullptr;  // the core's (its executor sleeps there)
    net::NicPort* nic = nullptr;       // what this core's stack sends and receives through
    void* lwip_heap = nullptr;         // kLwipHeapBytes, 8-byte aligned, for this copy alone
    net::NetConfig ip;                 // the same addresses on every core
    void (*report)(const char* message) = nullptr;  // lwIP's assertion reports
};

// Builds copy `index`'s backend (an lwIP instance with one interface over
// cfg.nic) in that copy's static storage. OutOfRange beyond kNetCores, Busy
// if that copy is open; the backend's destructor closes it.
Result<pdpix::Backend*> open_net_core(uint32_t index, const NetCoreConfig& cfg);

}  // namespace ringlet::backend

// Each copy's entry (renamed per copy to rnc<i>_ringlet_net_core_open): 0 or
// an Error value.
extern "C" int ringlet_net_core_open(const ringlet::backend::NetCoreConfig* cfg, ringlet::pdpix::Backend** out);
