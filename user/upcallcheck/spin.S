/* upcallcheck_spin(count, target, dump, vector): spins until *count reaches
 * target with a pattern in every register it may use, then stores them all
 * to dump: x1 and x5-x28 at dump[n], f0-f31 at dump[32 + n] (their bits),
 * and with vector != 0 vl and vtype at dump[64] and dump[65], then v0-v31
 * as four 8-register groups (e64 lanes) from dump[66] on. Register xn holds
 * 0x5a5a_0000_0000_0000 + n * 0x1_0001, fn the same with n + 0x100, and
 * lane i of group g (v8g) 0x5a5a_0000_0000_0000 + 0x200 * 0x1_0001 +
 * g * 0x100 + i, with vl 3 of e32, m2 (tu, mu) set last. An upcall that comes back with
 * any of it changed shows in the dump. t4-t6 (x29-x31) run the loop. */
    .section .text
    .globl upcallcheck_spin
upcallcheck_spin:
    addi    sp, sp, -128
    sd      ra, 0(sp)
    sd      s0, 8(sp)
    sd      s1, 16(sp)
    .irp n, 2,3,4,5,6,7,8,9,10,11
    sd      s\n, (\n+1)*8(sp)
    .endr
    sd      a2, 104(sp)
    sd      a3, 112(sp)
    mv      t6, a0
    mv      t5, a1
    /* f0-f31 */
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    li      a0, 0x5a5a000000000000 + (0x100 + \n) * 0x10001
    fmv.d.x f\n, a0
    .endr
    beqz    a3, 2f
    .option push
    .option arch, +v
    li      a0, 0x5a5a000000000000 + 0x200 * 0x10001
    vsetvli t3, zero, e64, m8, ta, ma
    vid.v   v0
    vadd.vx v0, v0, a0
    addi    a0, a0, 0x100
    vid.v   v8
    vadd.vx v8, v8, a0
    addi    a0, a0, 0x100
    vid.v   v16
    vadd.vx v16, v16, a0
    addi    a0, a0, 0x100
    vid.v   v24
    vadd.vx v24, v24, a0
    li      a0, 3
    vsetvli zero, a0, e32, m2, tu, mu
    .option pop
2:  .irp n, 1,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28
    li      x\n, 0x5a5a000000000000 + \n * 0x10001
    .endr
1:  ld      t4, 0(t6)
    bltu    t4, t5, 1b
    ld      t6, 104(sp)
    .irp n, 1,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28
    sd      x\n, \n*8(t6)
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd     f\n, (32+\n)*8(t6)
    .endr
    ld      t5, 112(sp)
    beqz    t5, 3f
    .option push
    .option arch, +v
    csrr    t4, vl
    sd      t4, 64*8(t6)
    csrr    t4, vtype
    sd      t4, 65*8(t6)
    csrr    t5, vlenb
    slli    t5, t5, 3
    addi    t4, t6, 66*8
    vs8r.v  v0, (t4)
    add     t4, t4, t5
    vs8r.v  v8, (t4)
    add     t4, t4, t5
    vs8r.v  v16, (t4)
    add     t4, t4, t5
    vs8r.v  v24, (t4)
    .option pop
3:  ld      ra, 0(sp)
    ld      s0, 8(sp)
    ld      s1, 16(sp)
    .irp n, 2,3,4,5,6,7,8,9,10,11
    ld      s\n, (\n+1)*8(sp)
    .endr
    addi    sp, sp, 128
    ret
