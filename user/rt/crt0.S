/* U-mode entry of every Ringlet app. The kernel starts it at _start with sp
 * at the top of its stack and a0 = hart index, a1 = timebase frequency,
 * a2 = the argument string, a3 = the first gift, a4/a5 = the StartCap
 * list and its count, a6 = the hart's features (see syscall_abi.h,
 * start_caps.h); a0..a6 go on as ringlet_start's arguments;
 * ringlet_start (runtime.cc) does the rest and never returns. */
    .section .text.start, "ax"
    .globl _start
_start:
    mv      s0, zero            /* end of the frame chain for backtraces */
    mv      ra, zero
    call    ringlet_start
1:  j       1b

/* Entry of each further core of a spanned app (user/rt/cores.h): the kernel
 * starts it with sp and tp set, a0 = hart index, a1 = the start block,
 * a2 = the hart's features. */
    .globl _core_start
_core_start:
    mv      s0, zero
    mv      ra, zero
    call    ringlet_core_start
1:  j       1b

/* An upcall (user/rt/upcall.h): the kernel enters here on the upcall's own
 * stack with a0 = the interrupted pc and tp unchanged; every register comes
 * back when ringlet_upcall_main makes the return call. */
    .globl _upcall_start
_upcall_start:
    mv      s0, zero
    mv      ra, zero
    call    ringlet_upcall_main
1:  j       1b
