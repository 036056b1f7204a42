/*
 * Kernel entry. The image starts with the 64-byte Linux RISC-V Image header
 * (Documentation/riscv/boot-image-header in Linux: facts, not code) so that
 * U-Boot's booti can load it; OpenSBI jumps to its first byte directly.
 * We run at whatever 2 MiB-aligned physical address we were loaded, with the
 * MMU off: only PC-relative addressing until the early map is on.
 */
#include "arch/riscv64/asm_offsets.h"

    .section .text.head, "ax"
    .option push
    .option norvc               /* code0 must be one 4-byte instruction */
    .globl _start
_start:
    j       boot_entry          /* code0 */
    .word   0                   /* code1 */
    .dword  0x200000            /* text_offset: booti places us at RAM base + this */
    .dword  __image_size        /* image_size, .bss included */
    .dword  0                   /* flags: little endian */
    .word   2                   /* version 0.2 */
    .word   0                   /* res1 */
    .dword  0                   /* res2 */
    .ascii  "RISCV\0\0\0"       /* magic (deprecated) */
    .ascii  "RSC\x05"           /* magic2: what booti checks */
    .word   0                   /* res3 */
    .option pop

/* Boot hart: a0 = hart id, a1 = FDT physical address, satp = 0. */
boot_entry:
    csrw    sie, zero
    csrw    sip, zero
    /* The boot lottery: the first hart into the image boots it; any other
     * goes to lost_lottery before it can zero .bss under the winner. */
    lla     t0, boot_lottery
    li      t1, 1
    amoswap.w.aqrl t1, t1, (t0)
    bnez    t1, lost_lottery
    mv      s0, a0
    mv      s1, a1
    lla     s2, _start          /* our physical load address */

    lla     t0, __bss_start     /* zero .bss (at its physical address) */
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    lla     sp, boot_stack_top
    mv      a0, s2
    call    early_map           /* returns the satp value of the early map */

    /* Turning on translation makes the next fetch (a physical address)
     * fault; stvec catches it at the virtual address of 3f. */
    ld      t0, .Lboot_virt
    csrw    stvec, t0
    sfence.vma
    csrw    satp, a0
    .balign 4
3:  lla     sp, boot_stack_top  /* now the virtual address */
    mv      tp, zero
    mv      a0, s0
    mv      a1, s1
    mv      a2, s2
    call    kernel_boot
4:  wfi
    j       4b

    .balign 8
.Lboot_virt:
    .dword  3b

/*
 * A hart that lost the lottery (a0 = hart id): a secondary the firmware sent
 * to the image's first byte with the cold-boot argument instead of to
 * secondary_entry with its block (OpenSBI 1.1's HSM start sets the hart
 * START_PENDING before it stores the start address, so a hart woken early in
 * its wait loop takes the stale one), or firmware that releases every hart
 * at once. It waits, MMU off, for the HartStart block the boot hart
 * publishes for its hart id (arch.cc, in .data so never zeroed under it),
 * then goes on as a secondary with it.
 */
lost_lottery:
1:  lla     t0, hart_start_blocks
    li      t2, HART_START_COUNT
2:  ld      t1, HART_START_PUBLISHED(t0)
    beqz    t1, 3f
    ld      t1, HART_START_HART_ID(t0)
    beq     t1, a0, 4f
3:  addi    t0, t0, HART_START_SIZE
    addi    t2, t2, -1
    bnez    t2, 2b
    j       1b
4:  fence   r, rw               /* `published` before the block's fields */
    mv      a1, t0
    j       secondary_entry

/*
 * Secondary harts, started by SBI HSM: a0 = hart id, a1 = physical address of
 * its HartStart block {satp, stack top, hart-local pointer, virtual entry}.
 */
    .globl secondary_entry
secondary_entry:
    csrw    sie, zero
    csrw    sip, zero
    ld      t0, HART_START_SATP(a1)
    ld      sp, HART_START_SP(a1)
    ld      tp, HART_START_TP(a1)
    ld      t1, HART_START_ENTRY(a1)
    csrw    stvec, t1
    sfence.vma
    csrw    satp, t0
    /* unreachable: the fetch faults to HART_START_ENTRY */
5:  j       5b

    .globl secondary_virt_entry
    .balign 4
secondary_virt_entry:
    sfence.vma
    mv      a0, tp
    call    kernel_secondary
6:  wfi
    j       6b

/* switch_stack(top, fn, arg): continue in fn(arg) on a new stack; no return. */
    .section .text
    .globl switch_stack
switch_stack:
    mv      sp, a0
    mv      s0, zero            /* ends backtraces here */
    mv      ra, zero
    mv      a0, a2
    jr      a1

    .section .data.boot_lottery, "aw"
    .balign 4
boot_lottery:
    .word   0                   /* 1 once a hart has taken the boot path */

    .section .bss.boot_stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_guard
boot_stack_guard:
    .space  4096                /* left unmapped in the final map */
    .space  16384
    .globl boot_stack_top
boot_stack_top:
