/* Offsets shared by assembly and C++; C++ checks them with static_assert
 * (arch/riscv64/trap.cc, kernel/smp/hart_local.h). */
#pragma once

#define HART_START_SATP 0
#define HART_START_SP 8
#define HART_START_TP 16
#define HART_START_ENTRY 24
#define HART_START_HART_ID 32
#define HART_START_PUBLISHED 40
#define HART_START_SIZE 48
#define HART_START_COUNT 32 /* BootInfo::kMaxHarts */

/* HartLocal (kernel/smp/hart_local.h) fields the trap entry uses. */
#define HL_SCRATCH 8
#define HL_STACK_BOTTOM 16
#define HL_EMERGENCY_TOP 24
#define HL_KERNEL_TOP 32
#define HL_SAVE_T0 40

/* TrapFrame: x0..x31 then CSRs, 8 bytes each. */
#define TF_SEPC (32 * 8)
#define TF_SSTATUS (33 * 8)
#define TF_SCAUSE (34 * 8)
#define TF_STVAL (35 * 8)
#define TF_SIZE (36 * 8)
