// Trap dispatch: decodes scause and hands the event to the kernel.
#include "arch/riscv64/csr.h"
#include "arch/riscv64/trap_frame.h"
#include "kernel/arch.h"
#include "kernel/console/console.h"

namespace ringlet {
namespace {

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
    uint64_t cause = frame->scause;
    if (cause & riscv::kCauseInterrupt) {
        switch (cause & ~riscv::kCauseInterrupt) {
        case riscv::kIrqTimer: on_timer_interrupt(); return;
        case riscv::kIrqSoftware:
            RINGLET_CSR_CLEAR(sip, riscv::kSieSsie);
            on_software_interrupt();
            return;
        default: on_kernel_fault(*frame, "unexpected interrupt");
        }
    }
    on_kernel_fault(*frame, exception_name(cause));
}

}  // namespace ringlet
