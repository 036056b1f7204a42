// The vector unit (RVV 1.0) for U-mode, following the FP unit's scheme
// (trap.cc): an app's sstatus.VS starts Initial on a hart with V (Off
// without, so any V instruction is an illegal-instruction fault that ends
// that app only), the hardware turns it Dirty on the first vector
// instruction, and a dispatcher switch saves v0-v31 and vstart, vl, vtype,
// vcsr only while Dirty. The kernel itself never uses V (GCC 12 emits no
// vector code): the registers in the hart are always some app's, so a
// restore is skipped when the hart's registers still hold what the area
// does (the same app sleeping and waking with nobody else's V in between:
// a UDP echo's every request).
//
// The instructions are assembled with `.option arch, +v` so that every
// build's kernel (plain rv64gc too) manages V for the apps that use it.
#include "arch/riscv64/vector.h"

#include "arch/riscv64/csr.h"
#include "arch/riscv64/trap_frame.h"
#include "kernel/arch.h"
#include "kernel/console/console.h"
#include "kernel/smp/hart_local.h"

namespace ringlet::arch {
namespace {

// The save area after the FP words: vstart, vl, vtype, vcsr, the holder
// (1 + the index of the hart whose registers equal the area's, 0: none),
// then v0-v31 (byte 40 on).
constexpr size_t kVectorCsrWords = 5;
constexpr size_t kVectorAreaWord = 33;
constexpr size_t kHolder = 4;
// The longest vector registers the area holds (kernel/arch.h's
// kUserExtStateWords): VLEN 256 bits, 32 bytes a register.
constexpr uint64_t kMaxVlenb = (kUserExtStateWords - kVectorAreaWord - kVectorCsrWords) * 8 / 32;
static_assert(kMaxVlenb == 32);

// Lets the kernel run V instructions (sret reloads the app's own VS).
inline void kernel_vector_on() { RINGLET_CSR_SET(sstatus, kSstatusVsInitial); }

}  // namespace

void init_vector(HartLocal& local) {
    local.vlenb = 0;
    if (!local.has_vector) return;
    kernel_vector_on();
    uint64_t vlenb;
    asm volatile(".option push\n.option arch, +v\ncsrr %0, vlenb\n.option pop" : "=r"(vlenb));
    RINGLET_CSR_CLEAR(sstatus, kSstatusVs);
    if (vlenb == 0 || vlenb > kMaxVlenb) {
        kprintf("hart %u: VLEN %lu bits, more than the %lu the kernel saves: vector unit left off\n", local.hart_id,
                vlenb * 8, kMaxVlenb * 8);
        return;
    }
    local.vlenb = static_cast<uint32_t>(vlenb);
    kprintf("hart %u: vector unit (V), VLEN %lu bits, for apps\n", local.hart_id, vlenb * 8);
}

uint64_t initial_vector_status() { return hart_local()->vlenb != 0 ? kSstatusVsInitial : 0; }

void save_vector(TrapFrame& frame, uint64_t* area) {
    if ((frame.sstatus & kSstatusVs) != kSstatusVs) return;  // not dirty: the area is current
    const uint64_t group = uint64_t{hart_local()->vlenb} * 8;  // bytes in 8 registers
    uint64_t* csrs = area + kVectorAreaWord;
    kernel_vector_on();
    // vstart first, then cleared: a whole-register store starts at vstart.
    asm volatile(
        ".option push\n.option arch, +v\n"
        "csrr t0, vstart\n sd t0, 0(%0)\n"
        "csrr t0, vl\n sd t0, 8(%0)\n"
        "csrr t0, vtype\n sd t0, 16(%0)\n"
        "csrr t0, vcsr\n sd t0, 24(%0)\n"
        "csrw vstart, zero\n"
        "addi t1, %0, 40\n"
        "vs8r.v v0, (t1)\n add t1, t1, %1\n"
        "vs8r.v v8, (t1)\n add t1, t1, %1\n"
        "vs8r.v v16, (t1)\n add t1, t1, %1\n"
        "vs8r.v v24, (t1)\n"
        ".option pop" ::"r"(csrs),
        "r"(group)
        : "t0", "t1", "memory");
    frame.sstatus = (frame.sstatus & ~kSstatusVs) | kSstatusVsClean;
    HartLocal& local = *hart_local();
    csrs[kHolder] = local.index + 1;
    local.vector_live = area;
}

void restore_vector(TrapFrame& frame, uint64_t* area) {
    const uint64_t vs = frame.sstatus & kSstatusVs;
    if (vs == 0) return;  // V off for this app
    HartLocal& local = *hart_local();
    const uint64_t vlenb = local.vlenb;
    if (vlenb == 0) {  // started on a hart with V, now on one without
        frame.sstatus &= ~kSstatusVs;
        return;
    }
    kernel_vector_on();
    if (vs == kSstatusVsInitial) {
        // Nothing of another app's may show: zeroes, vtype.vill (vl 0).
        asm volatile(
            ".option push\n.option arch, +v\n"
            "vsetvli t0, zero, e8, m8, ta, ma\n"
            "vmv.v.i v0, 0\n vmv.v.i v8, 0\n vmv.v.i v16, 0\n vmv.v.i v24, 0\n"
            "li t1, 1\n slli t1, t1, 63\n"
            "vsetvl t0, zero, t1\n"
            "csrw vcsr, zero\n"
            ".option pop" ::
                : "t0", "t1", "memory");
        local.vector_live = nullptr;
        return;
    }
    uint64_t* csrs = area + kVectorAreaWord;
    if (local.vector_live == area && csrs[kHolder] == local.index + 1) return;  // still in the registers
    // Registers first: the whole-register loads need no vtype and reset
    // vstart, which comes back last.
    asm volatile(
        ".option push\n.option arch, +v\n"
        "csrw vstart, zero\n"
        "addi t1, %0, 40\n"
        "vl8re8.v v0, (t1)\n add t1, t1, %1\n"
        "vl8re8.v v8, (t1)\n add t1, t1, %1\n"
        "vl8re8.v v16, (t1)\n add t1, t1, %1\n"
        "vl8re8.v v24, (t1)\n"
        "ld t0, 8(%0)\n ld t1, 16(%0)\n"
        "vsetvl zero, t0, t1\n"
        "ld t0, 24(%0)\n csrw vcsr, t0\n"
        "ld t0, 0(%0)\n csrw vstart, t0\n"
        ".option pop" ::"r"(csrs),
        "r"(vlenb * 8)
        : "t0", "t1", "memory");
    csrs[kHolder] = local.index + 1;
    local.vector_live = area;
}

void forget_live_vector() { hart_local()->vector_live = nullptr; }

bool is_vector_instruction(uint64_t insn) {
    const uint64_t opcode = insn & 0x7f;
    if (opcode == 0x57) return true;  // OP-V: arithmetic and vset{i}vl{i}
    const uint64_t width = (insn >> 12) & 7;
    // LOAD-FP / STORE-FP with a vector element width (0, 5, 6, 7; the
    // scalar FP widths are 1-4).
    if (opcode == 0x07 || opcode == 0x27) return width == 0 || width >= 5;
    if (opcode == 0x73 && (width & 3) != 0) {  // SYSTEM: a CSR instruction
        const uint64_t csr = insn >> 20;
        return csr == 0x008 || csr == 0x009 || csr == 0x00a || csr == 0x00f || (csr >= 0xc20 && csr <= 0xc22);
    }
    return false;
}

}  // namespace ringlet::arch
