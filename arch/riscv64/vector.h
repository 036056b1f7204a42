// The vector unit (RVV 1.0) for U-mode apps, managed like the FP unit
// (trap.cc): sstatus.VS per dispatcher, the state saved only when dirty.
// Used by arch/riscv64/ only; kernel/ reaches it through save_fp/restore_fp.
#pragma once

#include <stdint.h>

#include "kernel/arch.h"  // HartLocal, TrapFrame

namespace ringlet::arch {

// sstatus.VS (bits 10:9): Off, Initial, Clean, Dirty.
inline constexpr uint64_t kSstatusVs = 3ull << 9;
inline constexpr uint64_t kSstatusVsInitial = 1ull << 9;
inline constexpr uint64_t kSstatusVsClean = 2ull << 9;

// Turns the vector unit on for this hart's apps if the FDT lists V and its
// registers fit the save area (sets local.vlenb; 0 leaves V off).
void init_vector(HartLocal& local);
// The VS an app starts with on this hart: Initial with V, Off without.
uint64_t initial_vector_status();
// v0-v31, vstart, vl, vtype, vcsr into `area` if frame's VS is Dirty (then
// Clean); out of it (or zeroed, for Initial) if VS is not Off. On a hart
// without V a restore turns the app's VS Off: its next V instruction faults.
void save_vector(TrapFrame& frame, uint64_t* area);
void restore_vector(TrapFrame& frame, uint64_t* area);
// Forgets which save area this hart's vector registers equal: the next
// restore_vector loads them whatever it names (an upcall changed them).
void forget_live_vector();
// Whether a 32-bit instruction (an illegal-instruction fault's stval) is a
// vector one: OP-V, a vector load/store, or a vector CSR access.
bool is_vector_instruction(uint64_t insn);

}  // namespace ringlet::arch
