// Inter-hart messages: the multikernel's only way for one hart to affect
// another. Every ordered pair of harts (from, to) has its own SpscRing of
// 64-byte messages; the sender pushes and raises an IPI, the receiver drains
// its inbound rings from the software-interrupt handler. No lock is shared:
// each producer endpoint is used only by its sending hart, each consumer only
// by its receiving hart.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

struct Dispatcher;

enum class HartMessageType : uint64_t {
    StartDispatcher = 1,  // arg0: Dispatcher* to run on the receiving hart
    FlushTlb = 2,         // arg0: request sequence number; answered with FlushDone
    FlushDone = 3,        // arg0: the sequence number flushed
    Halt = 4,             // stop this hart (machine shutdown)
    Notify = 5,           // arg0: Dispatcher* on the receiving hart, arg1: its id << 8 | notification bit
    EndDispatcher = 6,    // arg0: Dispatcher* on the receiving hart, arg1: its id (its app is ending)
};

// Sets up the rings for `hart_count` harts (boot hart, before the others start).
Result<void> init_mailboxes(size_t hart_count);

// Sends a message to the hart with dense index `to` and wakes it. Waits (while
// serving this hart's own inbox, so two harts sending to each other cannot
// deadlock) if that ring is full.
Result<void> send_to_hart(size_t to, HartMessageType type, uint64_t arg0 = 0, uint64_t arg1 = 0);

// Handles every message waiting for this hart. Called on a software interrupt.
void drain_mailbox();

// Flushes this hart's TLB and makes each other hart in `harts` (bit = dense
// index; the harts where the changed address space may be live) flush its
// own, waiting until all have done so. Harts outside the mask are left
// alone: a hart that activates a space later flushes as it does.
Result<void> shootdown_tlbs(uint64_t harts);
// Which of `harts` a shootdown from hart `me` must interrupt (`count` harts).
constexpr uint64_t remote_shootdown_targets(uint64_t harts, size_t me, size_t count) {
    const uint64_t all = count >= 64 ? ~0ull : (1ull << count) - 1;
    return harts & all & ~(1ull << me);
}
// FlushTlb messages this hart has sent, and all harts together (statistics,
// printed at power-off and checked by qemu.lock_*).
uint64_t remote_shootdowns_sent();
uint64_t remote_shootdowns_sent_all();

// Kernel locks that may be waited for while serving the mailbox (the
// capability locks, kernel/cap/machine_caps.h) count themselves here. While
// this hart holds one, messages whose handlers take such locks (starting or
// ending a dispatcher) are kept back and handled once it holds none: a
// handler run inside a locked section could wait for a lock this very hart
// holds.
void enter_locked_section();
void leave_locked_section();
bool in_locked_section();

// Messages handled by this hart so far, for tests and statistics.
uint64_t messages_handled();

}  // namespace ringlet
