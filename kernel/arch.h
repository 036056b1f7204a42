// The interface the kernel needs from the architecture; arch/riscv64/
// implements it. Nothing outside arch/ touches a CSR, an SBI call or a PTE.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "ringlet/result.h"

namespace ringlet {
struct HartLocal;
struct TrapFrame;
}  // namespace ringlet

namespace ringlet::arch {

// One character to the firmware console; works before any driver exists.
void early_putchar(char c);

// Installs the trap vector and this hart's HartLocal (tp, sscratch = 0).
void init_hart(HartLocal* local);
inline HartLocal* hart_local();  // inline: arch/riscv64/arch_inline.h

// The platform's monotonic time, in timebase ticks (BootInfo::timebase_frequency).
inline uint64_t now();
// One timer interrupt at absolute time `deadline`; Sstc when the hart has it.
void set_timer(uint64_t deadline, bool sstc);
void timer_off(bool sstc);
// Timer, software (IPI) and external interrupts on for this hart (taken
// only where the kernel opens SIE: idle and U-mode).
void enable_interrupts();

// Raises a software interrupt on hart `hart_id` (wakes it from idle_wait).
Result<void> send_ipi(uint32_t hart_id);

// Sleeps until an interrupt is pending, taking it on wake-up.
void idle_wait();

// Where start_hart asks the firmware to send a hart: its own entry, or the
// image's first byte, where the boot lottery must catch it and send it on as
// a secondary (what OpenSBI 1.1 can do by itself: a hart woken early in its
// HSM wait takes the cold-boot address). ImageStart is for the boot test
// `hart_start=image` that proves the lottery.
enum class HartEntry { Secondary, ImageStart };

// Starts hart `hart_id` through SBI HSM; it enters kernel_secondary(local)
// with the kernel page table `root_pa` and stack `stack_top` in place.
Result<void> start_hart(uint32_t hart_id, HartLocal* local, uint64_t root_pa, uint64_t stack_top,
                        HartEntry entry = HartEntry::Secondary);

// Makes `root_pa` the active kernel page table on this hart.
void activate_page_table(uint64_t root_pa);

// Continues in fn(arg) on the stack ending at `top`; never returns.
[[noreturn]] void switch_stack(uint64_t top, void (*fn)(void*), void* arg);

// Turns the machine off. `code` 0 is a clean shutdown; anything else is a
// failure that the runner (QEMU's exit code) sees.
[[noreturn]] void power_off(int code, const PowerInfo& power);

// Calls visit(pc) for each return address on the kernel stack, from the
// frame `fp` upwards, staying inside [stack_bottom, stack_top).
void walk_stack(uint64_t fp, uint64_t stack_bottom, uint64_t stack_top, void (*visit)(uint64_t pc, void* ctx),
                void* ctx);
uint64_t current_frame_pointer();

// Prints the register state of a trap frame (panic reports).
void dump_trap_frame(const TrapFrame& frame);

}  // namespace ringlet::arch

namespace ringlet::arch {

// Kernel page tables. Table frames come from the kernel's FrameAllocator.
Result<uint64_t> new_page_table();
// Maps [va, va+size) → [pa, pa+size) with MapPerm bits; W+X is refused.
Result<void> map(uint64_t root_pa, uint64_t va, uint64_t pa, uint64_t size, uint32_t perm);
// Where the kernel sees physical address `pa` (the direct map).
uint64_t phys_to_virt(uint64_t pa);

// User page tables: a new root sharing the kernel half of `kernel_root`.
Result<uint64_t> new_user_page_table(uint64_t kernel_root);
Result<void> unmap(uint64_t root_pa, uint64_t va, uint64_t size);
struct Mapping {
    uint64_t pa;
    uint32_t perm;  // MapPerm bits
};
Result<Mapping> translate(uint64_t root_pa, uint64_t va);
// Frees the user half's tables and the root (not the mapped frames).
void free_user_page_table(uint64_t root_pa);
// Flushes this hart's TLB entries for user mappings.
void flush_tlb();

}  // namespace ringlet::arch

namespace ringlet::arch {

// A user-mode register state that starts at `entry` with stack `sp` and
// a0..a3 = `args`, interrupts on, FP unit available.
void init_user_frame(TrapFrame& frame, uint64_t entry, uint64_t sp, const uint64_t (&args)[4]);
// Sets argument register a`i` of a user state that has not run yet.
void set_start_arg(TrapFrame& frame, int i, uint64_t value);
// Whether a user state made by init_user_frame may use the vector unit
// (the hart has V and the kernel switches its registers).
bool user_vector_on(const TrapFrame& frame);
// Sets the thread pointer of a user state that has not run yet (each core
// of a spanned app starts with its own thread-local block).
void set_start_thread_pointer(TrapFrame& frame, uint64_t tp);
// Leaves the kernel into the user state `frame` (which must sit at the top
// of this hart's kernel stack, where the next trap from U-mode lands).
[[noreturn]] void enter_user(TrapFrame* frame);
// A dispatcher's save area for the user state beyond the trap frame, in
// words: the FP unit (f0-f31, fcsr) and, on harts with a vector unit, its
// registers (vstart, vl, vtype, vcsr, a word of bookkeeping, v0-v31 of up to
// 256 bits each; a hart with longer ones leaves V off).
inline constexpr size_t kUserExtStateWords = 33 + 5 + 32 * 256 / 64;
// That state into / out of `regs` (kUserExtStateWords), if `frame` says
// the app has touched it (save: changed it since the last save). A restore
// may turn off in `frame` a unit this hart does not have, and notes in
// `regs` which hart holds them (it skips reloading what is still there).
void save_fp(TrapFrame& frame, uint64_t* regs);
void restore_fp(TrapFrame& frame, uint64_t* regs);
// For an upcall (kernel/sched/upcall.h): saves the FP and vector state the
// hart holds for `frame` into `regs` whether or not it changed (the upcall
// will change it); and loads it back from `regs` afterwards, marking it
// changed in `frame` so the next save_fp stores it where the dispatcher
// keeps it.
void save_ext_state_all(TrapFrame& frame, uint64_t* regs);
void reload_ext_state(TrapFrame& frame, uint64_t* regs);
// Syscall convention accessors: number, arguments, results.
// The call number and its six argument registers, in one call (the
// syscall path reads them all).
inline void syscall_args(const TrapFrame& frame, uint64_t& number, uint64_t (&args)[6]);
inline void set_syscall_result(TrapFrame& frame, uint64_t error, uint64_t value);
uint64_t fault_pc(const TrapFrame& frame);
uint64_t fault_address(const TrapFrame& frame);

}  // namespace ringlet::arch

// Called by arch/ on traps; implemented by the kernel.
namespace ringlet {
void on_timer_interrupt();
void on_software_interrupt();
void on_external_interrupt();
// An ecall from U-mode; sepc already points past it. `frame` holds only the
// registers the C ABI does not preserve (and sepc, sstatus, scause). True if
// the calling app runs on; false if the caller must complete the frame and
// call switch_dispatchers(frame).
bool on_syscall(TrapFrame& frame);
// Any other exception from U-mode: the app dies, the kernel goes on.
void on_user_fault(TrapFrame& frame, const char* cause);
// Last step before any return to U-mode: may switch `frame` to another app.
void on_return_to_user(TrapFrame& frame);
// Its second half, after on_syscall returned false: saves the current app
// (blocked, ended, or out of slice) and loads the next one into `frame`.
void switch_dispatchers(TrapFrame& frame);
// An exception the kernel does not expect: from kernel mode it panics.
[[noreturn]] void on_kernel_fault(TrapFrame& frame, const char* cause);
}  // namespace ringlet

// The inline definitions (the host build, which runs none of this, has none).
#ifndef RINGLET_HOST_BUILD
#include "arch/riscv64/arch_inline.h"
#endif
