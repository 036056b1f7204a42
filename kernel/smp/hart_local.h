// Per-hart kernel state. Each hart owns exactly one HartLocal, reached through
// the thread pointer (tp) while in the kernel; another hart never writes it
// (it sends a message instead). The first fields are read by the trap entry
// in assembly: their offsets are fixed by arch/riscv64/asm_offsets.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/riscv64/asm_offsets.h"
#include "kernel/mm/frame_cache.h"
#include "kernel/sched/scheduler.h"

namespace ringlet {

struct HartLocal {
    HartLocal* self = nullptr;        // HL 0
    uint64_t scratch = 0;             // HL_SCRATCH: trap entry's saved sp
    uint64_t stack_bottom = 0;        // HL_STACK_BOTTOM: lowest usable byte of the kernel stack
    uint64_t emergency_top = 0;       // HL_EMERGENCY_TOP: stack for traps after an overflow
    uint64_t kernel_top = 0;          // HL_KERNEL_TOP: kernel stack top for traps from U-mode
    uint64_t save_t0 = 0;             // HL_SAVE_T0

    uint32_t hart_id = 0;             // the platform's id (FDT reg)
    uint32_t index = 0;               // 0..hart_count-1, dense
    uint64_t stack_top = 0;
    uint64_t timer_slice = 0;         // scheduling slice, in timebase ticks
    int32_t plic_context = -1;        // this hart's S-mode PLIC context (-1: none)
    bool has_sstc = false;
    bool has_vector = false;          // the FDT lists V for this hart (arch::init_hart reads it)
    uint32_t vlenb = 0;               // arch: bytes per vector register while apps may use V, else 0
    const uint64_t* vector_live = nullptr;  // arch: the save area this hart's vector registers equal
    volatile bool online = false;
    volatile uint64_t timer_ticks = 0;
    // The time this hart's timer is set to (kTimerOff: off; 0: unknown, so the
    // next arm writes): re-arming at the same time is skipped, an SBI call
    // (or stimecmp write) saved on most returns to U-mode.
    static constexpr uint64_t kTimerOff = ~0ull;
    uint64_t timer_armed = 0;
    Scheduler sched;
    FrameCache frame_cache;           // single frames (kernel/mm/frames.h alloc_frame)
};

static_assert(offsetof(HartLocal, scratch) == HL_SCRATCH);
static_assert(offsetof(HartLocal, stack_bottom) == HL_STACK_BOTTOM);
static_assert(offsetof(HartLocal, emergency_top) == HL_EMERGENCY_TOP);
static_assert(offsetof(HartLocal, kernel_top) == HL_KERNEL_TOP);
static_assert(offsetof(HartLocal, save_t0) == HL_SAVE_T0);

// This hart's dense index (0 before per-hart state exists, on the boot hart).
size_t current_hart_index();

// The HartLocal of dense index `index` (< hart_count()); for addressing
// messages, never for touching another hart's state.
HartLocal& hart_by_index(size_t index);
size_t hart_count();

}  // namespace ringlet
