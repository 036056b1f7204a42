/* U-mode entry of every Ringlet app: the kernel starts it at _start with sp
 * at the top of its stack and a0 = its start argument (see syscall_abi.h).
 * Runs static constructors, calls main(arg), and exits with main's result. */
    .section .text.start, "ax"
    .globl _start
_start:
    mv      s0, zero            /* end of the frame chain for backtraces */
    mv      s1, a0
    call    ringlet_run_init_array
    mv      a0, s1
    call    main
    call    ringlet_exit
1:  j       1b
