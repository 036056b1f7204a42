// Trap dispatch: decodes scause and hands the event to the kernel.
#include "arch/riscv64/csr.h"
#include "arch/riscv64/trap_frame.h"
#include "arch/riscv64/vector.h"
#include "kernel/arch.h"
#include "kernel/console/console.h"

namespace ringlet {
namespace {

constexpr uint64_t kSstatusFs = 3ull << 13;
constexpr uint64_t kSstatusFsInitial = 1ull << 13;
constexpr uint64_t kSstatusFsClean = 2ull << 13;

const char* exception_name(uint64_t code) {
    switch (code) {
    case 0: return "instruction address misaligned";
    case 1: return "instruction access fault";
    case 2: return "illegal instruction";
    case 3: return "breakpoint";
    case 4: return "load address misaligned";
    case 5: return "load access fault";
    case 6: return "store/AMO address misaligned";
    case 7: return "store/AMO access fault";
    case 8: return "environment call from U-mode";
    case 9: return "environment call from S-mode";
    case 12: return "instruction page fault";
    case 13: return "load page fault";
    case 15: return "store/AMO page fault";
    default: return "unknown exception";
    }
}

}  // namespace

namespace arch {
void dump_trap_frame(const TrapFrame& f) {
    static const char* const kNames[32] = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
                                           "a1",   "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                                           "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    kprintf("  scause %016lx  stval %016lx  sstatus %016lx\n", f.scause, f.stval, f.sstatus);
    for (int i = 1; i < 32; i += 4) {
        kprintf("  %-4s %016lx  %-4s %016lx  %-4s %016lx", kNames[i], f.x[i], kNames[i + 1], f.x[i + 1],
                kNames[i + 2], f.x[i + 2]);
        if (i + 3 < 32) kprintf("  %-4s %016lx", kNames[i + 3], f.x[i + 3]);
        kprintf("\n");
    }
}
}  // namespace arch

extern "C" void ringlet_trap_handler(TrapFrame* frame) {
    const bool from_user = !(frame->sstatus & riscv::kSstatusSpp);
    const uint64_t cause = frame->scause;
    if (cause & riscv::kCauseInterrupt) {
        switch (cause & ~riscv::kCauseInterrupt) {
        case riscv::kIrqTimer: on_timer_interrupt(); break;
        case riscv::kIrqSoftware:
            RINGLET_CSR_CLEAR(sip, riscv::kSieSsie);
            on_software_interrupt();
            break;
        case riscv::kIrqExternal: on_external_interrupt(); break;
        default: on_kernel_fault(*frame, "unexpected interrupt");
        }
    } else if (!from_user) {
        on_kernel_fault(*frame, exception_name(cause));
    } else if (cause == 2 && arch::initial_vector_status() == 0 && arch::is_vector_instruction(frame->stval)) {
        // stval holds the faulting instruction (QEMU, most cores).
        on_user_fault(*frame, "vector instruction on a hart without V (illegal instruction)");
    } else {  // an ecall from U-mode takes ringlet_syscall_handler instead
        on_user_fault(*frame, exception_name(cause));
    }
    if (from_user) on_return_to_user(*frame);
}

// An ecall from U-mode (trap_entry.S has moved sepc past it). `frame`
// holds only the registers the C ABI does not preserve: false if the hart
// must switch dispatchers, and then the caller completes the frame and calls
// ringlet_syscall_switch.
extern "C" bool ringlet_syscall_handler(TrapFrame* frame) { return on_syscall(*frame); }

extern "C" void ringlet_syscall_switch(TrapFrame* frame) { switch_dispatchers(*frame); }

namespace arch {

void init_user_frame(TrapFrame& frame, uint64_t entry, uint64_t sp, const uint64_t (&args)[4]) {
    frame = TrapFrame{};
    frame.sepc = entry;
    frame.x[2] = sp;
    for (int i = 0; i < 4; ++i) frame.x[10 + i] = args[i];
    uint64_t status = RINGLET_CSR_READ(sstatus);
    status &= ~(riscv::kSstatusSpp | riscv::kSstatusSie | riscv::kSstatusSum | kSstatusFs | kSstatusVs);
    frame.sstatus = status | riscv::kSstatusSpie | kSstatusFsInitial | initial_vector_status();
}

void save_fp(TrapFrame& frame, uint64_t* regs) {
    if ((frame.sstatus & kSstatusVs) == kSstatusVs) save_vector(frame, regs);  // dirty
    if ((frame.sstatus & kSstatusFs) != kSstatusFs) return;  // not dirty: nothing new to save
    asm volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fsd f\\n, \\n*8(%0)\n"
        ".endr\n"
        "frcsr t0\n"
        "sd t0, 256(%0)\n" ::"r"(regs)
        : "t0", "memory");
    frame.sstatus = (frame.sstatus & ~kSstatusFs) | kSstatusFsClean;
}

void restore_fp(TrapFrame& frame, uint64_t* regs) {
    if ((frame.sstatus & kSstatusVs) != 0) restore_vector(frame, regs);  // V on for this app
    if ((frame.sstatus & kSstatusFs) == 0) return;  // FP off for this app
    asm volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fld f\\n, \\n*8(%0)\n"
        ".endr\n"
        "ld t0, 256(%0)\n"
        "fscsr t0\n" ::"r"(regs)
        : "t0", "memory");
}

void save_ext_state_all(TrapFrame& frame, uint64_t* regs) {
    // Mark each unit that is on dirty, so save_fp stores what the hart holds.
    if (frame.sstatus & kSstatusFs) frame.sstatus |= kSstatusFs;
    if (frame.sstatus & kSstatusVs) frame.sstatus |= kSstatusVs;
    save_fp(frame, regs);
}

void reload_ext_state(TrapFrame& frame, uint64_t* regs) {
    forget_live_vector();  // the upcall changed the registers: load them all
    restore_fp(frame, regs);
    if (frame.sstatus & kSstatusFs) frame.sstatus |= kSstatusFs;
    if (frame.sstatus & kSstatusVs) frame.sstatus |= kSstatusVs;
}

void set_start_arg(TrapFrame& frame, int i, uint64_t value) { frame.x[10 + i] = value; }
bool user_vector_on(const TrapFrame& frame) { return (frame.sstatus & kSstatusVs) != 0; }
void set_start_thread_pointer(TrapFrame& frame, uint64_t tp) { frame.x[4] = tp; }
uint64_t fault_pc(const TrapFrame& frame) { return frame.sepc; }
uint64_t fault_address(const TrapFrame& frame) { return frame.stval; }

}  // namespace arch
}  // namespace ringlet
