// Dispatcher: an app's execution context on one hart (Barrelfish's term): its
// saved user registers, its address space, and what it waits for. A
// dispatcher lives on one hart; only that hart's scheduler touches it after
// it has been placed there.
//
// An app may span several harts (Barrelfish's "spanned domain"): one
// dispatcher per hart, all sharing the first one's address space, capability
// table and frames. That first dispatcher leads the domain: it holds what the
// members share and outlives them (a leader that ends first stays, Dead and
// off every queue, until the last member has gone). The members' own state
// (registers, tp, notifications, interrupt lines, wait) is theirs alone.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/riscv64/trap_frame.h"
#include "kernel/mm/address_space.h"
#include "kernel/sched/upcall.h"
#include "ringlet/start_caps.h"

namespace ringlet {

enum class DispatcherState : uint8_t { Free, Runnable, Blocked, Dead };

struct Dispatcher {
    static constexpr size_t kNameMax = 24;

    uint32_t id = 0;
    char name[kNameMax] = {};
    DispatcherState state = DispatcherState::Free;
    uint32_t hart_index = 0;
    TrapFrame frame = {};
    AddressSpace space;

    uint32_t cap_table = 0;         // its CapTable in the CapSpace (kernel/cap)
    bool caps_closed = false;       // ending: no capability may be minted into its table
    // The StartCap list on its stack (ringlet/start_caps.h), filled in before
    // it first runs: where the kernel writes it, where the app reads it.
    StartCap* start_caps = nullptr;
    uint64_t start_caps_va = 0;
    uint32_t start_cap_count = 0;

    uint64_t wake_deadline = 0;     // Blocked: wake at this time (0 = no deadline)
    uint64_t notifications = 0;     // pending notification bits, cleared by wait
    uint64_t wait_mask = 0;         // Blocked: which bits end the wait
    // Device interrupt lines bound to this dispatcher's notification bits
    // (kernel/irq/irq_routing.h; at most one per claimable device) and the
    // bits whose line is claimed at the PLIC, waiting to be completed.
    static constexpr size_t kMaxIrqLines = 8;
    uint16_t irq_lines[kMaxIrqLines] = {};
    uint8_t irq_line_count = 0;
    uint64_t irq_in_service = 0;
    int64_t exit_code = 0;
    bool has_wake_value = false;    // a blocking call's result to deliver on resume
    uint64_t wake_value = 0;
    UpcallState upcall;             // its own (each member of a domain arms its own)

    Dispatcher* next = nullptr;     // run queue link (owned by the hart's scheduler)

    // The spanned domain (see above). Written under the dispatcher pool's
    // lock (kernel/sched/dispatch.cc); `leader` is fixed once placed.
    Dispatcher* leader = nullptr;   // nullptr: this dispatcher leads its domain
    uint32_t members = 0;           // leader: live dispatchers of the domain, itself included
    uint64_t member_harts = 0;      // leader: dense hart indices with a live member (bit per hart)
    uint64_t placement_harts = 0;   // leader: the harts its starter asks it to run on (init=NAME@0-3);
                                    // the authority to run there is a Hart cap
    bool ending = false;            // leader: one member ended; the others are being ended
    bool placed = false;            // on its hart's queues (a member in flight there is not yet)
};

// The dispatcher that holds what `d`'s domain shares (itself if it leads).
inline Dispatcher& domain_of(Dispatcher& d) { return d.leader ? *d.leader : d; }
inline const Dispatcher& domain_of(const Dispatcher& d) { return d.leader ? *d.leader : d; }

}  // namespace ringlet
