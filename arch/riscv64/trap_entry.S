/*
 * The S-mode trap vector (stvec, direct mode). Convention:
 *   in the kernel, tp = this hart's HartLocal and sscratch = 0;
 *   in user mode, sscratch = this hart's HartLocal (tp is the app's).
 * Saves the registers into a TrapFrame on the kernel stack, calls
 * ringlet_trap_handler(frame), restores and srets (the handler may have
 * changed the frame, e.g. to switch dispatchers).
 *
 * The system call path saves less. An ecall from U-mode first saves only
 * what the C calling convention lets the kernel's C++ clobber (ra, gp, tp,
 * t0-t6, a0-a7), plus sp, s0 (zeroed for backtraces) and sepc/sstatus/
 * scause, and calls ringlet_syscall_handler. s1-s11 are callee-saved: when
 * that call returns they hold the app's values again, untouched, so a call
 * that resumes the same app restores the same subset and srets. Only when
 * the handler says the hart must switch dispatchers (the app blocked, ended,
 * or its slice ran out) are s1-s11 — still the app's, for the same reason —
 * stored to complete the frame before ringlet_syscall_switch copies it away.
 */
#include "arch/riscv64/asm_offsets.h"

/* What the C ABI does not preserve, except sp, tp and t0 (saved apart). */
.macro SAVE_CALLER_SAVED
    sd      x1, 1*8(sp)
    sd      x3, 3*8(sp)
    .irp n, 6,7,10,11,12,13,14,15,16,17,28,29,30,31
    sd      x\n, \n*8(sp)
    .endr
.endm

/* s0 (x8) is saved with the caller-saved ones; these are the rest. */
.macro SAVE_S1_TO_S11
    .irp n, 9,18,19,20,21,22,23,24,25,26,27
    sd      x\n, \n*8(sp)
    .endr
.endm

.macro SAVE_GPRS_EXCEPT_SP_TP_T0
    SAVE_CALLER_SAVED
    sd      x8, 8*8(sp)
    SAVE_S1_TO_S11
.endm

    .section .text
    .globl trap_vector
    .balign 4
trap_vector:
    csrrw   tp, sscratch, tp
    bnez    tp, .Lfrom_user

.Lfrom_kernel:
    csrr    tp, sscratch                /* our HartLocal again */
    sd      sp, HL_SCRATCH(tp)
    sd      t0, HL_SAVE_T0(tp)
    addi    sp, sp, -TF_SIZE
    /* A kernel stack overflow lands in the guard page; taking the trap on
     * the same stack would fault forever, so use the emergency stack. */
    ld      t0, HL_STACK_BOTTOM(tp)
    bgeu    sp, t0, 1f
    ld      sp, HL_EMERGENCY_TOP(tp)
    addi    sp, sp, -TF_SIZE
1:  SAVE_GPRS_EXCEPT_SP_TP_T0
    ld      t0, HL_SCRATCH(tp)
    sd      t0, 2*8(sp)
    sd      tp, 4*8(sp)
    ld      t0, HL_SAVE_T0(tp)
    sd      t0, 5*8(sp)
    csrw    sscratch, zero
    j       .Lsave_csrs

.Lfrom_user:                            /* tp = HartLocal, sscratch = user tp */
    sd      sp, HL_SCRATCH(tp)
    ld      sp, HL_KERNEL_TOP(tp)
    addi    sp, sp, -TF_SIZE
    sd      t0, 5*8(sp)
    SAVE_CALLER_SAVED
    sd      s0, 8*8(sp)
    ld      t0, HL_SCRATCH(tp)
    sd      t0, 2*8(sp)
    csrr    t0, sscratch
    sd      t0, 4*8(sp)
    csrw    sscratch, zero
    csrr    t0, sstatus
    sd      t0, TF_SSTATUS(sp)
    csrr    t1, sepc
    csrr    t0, scause
    sd      t0, TF_SCAUSE(sp)
    li      t2, 8                       /* environment call from U-mode */
    bne     t0, t2, .Luser_trap
    addi    t1, t1, 4                   /* resume after the ecall */
    sd      t1, TF_SEPC(sp)
    mv      s0, zero                    /* backtraces stop at the trap */
    mv      a0, sp
    call    ringlet_syscall_handler     /* false: switch dispatchers */
    beqz    a0, .Lsyscall_switch
    /* The same app resumes: restore what was saved (s1-s11 never left). */
    ld      t0, TF_SEPC(sp)
    csrw    sepc, t0
    ld      t0, TF_SSTATUS(sp)
    csrw    sstatus, t0
    csrw    sscratch, tp                /* park HartLocal */
    ld      x1, 1*8(sp)
    ld      x3, 3*8(sp)
    ld      x4, 4*8(sp)
    .irp n, 5,6,7,8,10,11,12,13,14,15,16,17,28,29,30,31
    ld      x\n, \n*8(sp)
    .endr
    ld      x2, 2*8(sp)
    sret

.Lsyscall_switch:                       /* s1-s11 are the app's: complete the frame */
    SAVE_S1_TO_S11
    sd      zero, 0(sp)
    sd      zero, TF_STVAL(sp)
    mv      a0, sp
    call    ringlet_syscall_switch
    j       trap_return

.Luser_trap:                            /* not a syscall: the whole frame */
    sd      t1, TF_SEPC(sp)
    SAVE_S1_TO_S11
    j       .Lsave_stval

.Lsave_csrs:
    csrr    t0, sepc
    sd      t0, TF_SEPC(sp)
    csrr    t0, sstatus
    sd      t0, TF_SSTATUS(sp)
    csrr    t0, scause
    sd      t0, TF_SCAUSE(sp)
.Lsave_stval:
    csrr    t0, stval
    sd      t0, TF_STVAL(sp)
    sd      zero, 0(sp)
    mv      s0, zero                    /* backtraces stop at the trap */
    mv      a0, sp
    call    ringlet_trap_handler

    .globl trap_return
trap_return:                            /* sp = the TrapFrame to resume */
    ld      t0, TF_SEPC(sp)
    csrw    sepc, t0
    ld      t0, TF_SSTATUS(sp)
    csrw    sstatus, t0
    andi    t0, t0, 1 << 8              /* SPP: returning to the kernel? */
    bnez    t0, 2f
    csrw    sscratch, tp                /* user mode: park HartLocal */
2:  ld      x1, 1*8(sp)
    ld      x3, 3*8(sp)
    ld      x4, 4*8(sp)
    .irp n, 5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, \n*8(sp)
    .endr
    ld      x2, 2*8(sp)
    sret

/* enter_user(frame): sp = frame (top of this hart's kernel stack), then the
 * ordinary return path. */
    .globl enter_user_asm
enter_user_asm:
    mv      sp, a0
    j       trap_return
