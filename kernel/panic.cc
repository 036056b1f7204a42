#include "kernel/panic.h"

#include "arch/riscv64/trap_frame.h"
#include "kernel/arch.h"
#include "kernel/console/console.h"
#include "kernel/lib/symbol_table.h"
#include "kernel/smp/hart_local.h"

namespace ringlet {
namespace {

PowerInfo g_power;         // written once by the boot hart before other harts start
uint32_t g_panicking = 0;  // first hart to panic wins; others stop quietly

void print_pc(int index, uint64_t pc) {
    auto hit = SymbolTable::kernel().lookup(pc);
    if (hit) kprintf("  #%d %p %s+0x%lx\n", index, reinterpret_cast<void*>(pc), hit->name, hit->offset);
    else kprintf("  #%d %p ?\n", index, reinterpret_cast<void*>(pc));
}

struct WalkState {
    int index;
};

// Enters the panic path once; a second panic (on this or another hart) just
// powers off so a failing report cannot loop.
void enter_panic() {
    if (__atomic_exchange_n(&g_panicking, 1u, __ATOMIC_ACQ_REL)) {
        arch::power_off(1, g_power);
    }
    console_force_unlock();
}

}  // namespace

void set_power_info(const PowerInfo& power) { g_power = power; }

[[noreturn]] void shutdown(int code) {
    console_flush();
    arch::power_off(code, g_power);
}

void print_backtrace(uint64_t pc, uint64_t fp) {
    kprintf("backtrace:\n");
    print_pc(0, pc);
    HartLocal* local = arch::hart_local();
    uint64_t bottom = local ? local->stack_bottom : 0;
    uint64_t top = local && local->stack_top ? local->stack_top : ~0ull;
    WalkState state{1};
    arch::walk_stack(
        fp, bottom, top,
        [](uint64_t ra, void* ctx) {
            auto* s = static_cast<WalkState*>(ctx);
            print_pc(s->index++, ra - 4);  // the call instruction, not the return point
        },
        &state);
}

[[noreturn]] void panic(const char* fmt, ...) {
    enter_panic();
    kprintf("\nPANIC on hart %u: ", arch::hart_local() ? arch::hart_local()->hart_id : 0);
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    print_backtrace(reinterpret_cast<uint64_t>(__builtin_return_address(0)), arch::current_frame_pointer());
    shutdown(1);
}

[[noreturn]] void on_kernel_fault(TrapFrame& frame, const char* cause) {
    enter_panic();
    auto hit = SymbolTable::kernel().lookup(frame.sepc);
    kprintf("\nPANIC on hart %u: kernel fault: %s at %p in %s+0x%lx, address %p\n",
            arch::hart_local() ? arch::hart_local()->hart_id : 0, cause, reinterpret_cast<void*>(frame.sepc),
            hit ? hit->name : "?", hit ? hit->offset : 0, reinterpret_cast<void*>(frame.stval));
    arch::dump_trap_frame(frame);
    print_backtrace(frame.sepc, frame.fp());
    shutdown(1);
}

}  // namespace ringlet
