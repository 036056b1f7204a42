// kernel/arch.h for RISC-V: harts, timers, page tables, power, stack walking.
#include "kernel/arch.h"
#include "kernel/console/console.h"

#include "arch/riscv64/asm_offsets.h"
#include "arch/riscv64/csr.h"
#include "arch/riscv64/layout.h"
#include "arch/riscv64/sbi.h"
#include "arch/riscv64/sv39.h"
#include "arch/riscv64/vector.h"
#include "kernel/mm/frames.h"
#include "kernel/smp/hart_local.h"

extern "C" char trap_vector[], secondary_entry[], secondary_virt_entry[], __image_start[];
extern "C" [[noreturn]] void switch_stack(uint64_t top, void (*fn)(void*), void* arg);
extern "C" [[noreturn]] void enter_user_asm(ringlet::TrapFrame* frame);

namespace ringlet {
namespace {

struct KernelEnv {
    static constexpr bool kAllowWriteExec = false;
    static Result<uint64_t> alloc_table() {
        uint64_t pa = TRY(alloc_frame());
        __builtin_memset(reinterpret_cast<void*>(layout::phys_to_virt(pa)), 0, layout::kPageSize);
        return pa;
    }
    static uint64_t* table(uint64_t pa) { return reinterpret_cast<uint64_t*>(layout::phys_to_virt(pa)); }
};

// What a secondary hart needs before it can run C++ (read by head.S at its
// physical address). One per hart; written by the boot hart before HSM start,
// `published` last. In .data, not .bss: a hart that loses head.S's boot
// lottery scans these for its hart id and may do so before the boot hart has
// zeroed .bss (firmware that releases every hart at once).
struct HartStart {
    uint64_t satp;
    uint64_t stack_top;
    uint64_t tp;
    uint64_t entry;
    uint64_t hart_id;
    uint64_t published;  // 1 once the fields above are final
};
static_assert(offsetof(HartStart, satp) == HART_START_SATP);
static_assert(offsetof(HartStart, stack_top) == HART_START_SP);
static_assert(offsetof(HartStart, tp) == HART_START_TP);
static_assert(offsetof(HartStart, entry) == HART_START_ENTRY);
static_assert(offsetof(HartStart, hart_id) == HART_START_HART_ID);
static_assert(offsetof(HartStart, published) == HART_START_PUBLISHED);
static_assert(sizeof(HartStart) == HART_START_SIZE);
static_assert(BootInfo::kMaxHarts == HART_START_COUNT);

}  // namespace

extern "C" {
__attribute__((section(".data.hart_start"))) HartStart hart_start_blocks[BootInfo::kMaxHarts] = {};
}

namespace {

constexpr uint16_t kCsrStimecmp = 0x14d;

}  // namespace

// The physical address of a kernel image symbol (set by kernel_boot).
uint64_t g_kernel_load_pa;

namespace arch {

void early_putchar(char c) { sbi::legacy_putchar(c); }

void init_hart(HartLocal* local) {
    local->self = local;
    asm volatile("mv tp, %0" ::"r"(local));
    RINGLET_CSR_WRITE(sscratch, 0);
    RINGLET_CSR_WRITE(stvec, reinterpret_cast<uint64_t>(trap_vector));
    // Let U-mode read time/cycle/instret (the libOS and benchmarks use them).
    RINGLET_CSR_WRITE(scounteren, 7);
    init_vector(*local);
}

void set_timer(uint64_t deadline, bool sstc) {
    if (sstc) asm volatile("csrw %0, %1" ::"i"(kCsrStimecmp), "r"(deadline));
    else sbi::set_timer(deadline);
}

void timer_off(bool sstc) { set_timer(~0ull, sstc); }

void enable_interrupts() { RINGLET_CSR_SET(sie, riscv::kSieStie | riscv::kSieSsie | riscv::kSieSeie); }

Result<void> send_ipi(uint32_t hart_id) {
    sbi::SbiRet r = sbi::send_ipi(1, hart_id);
    if (r.error != 0) return Error::InvalidArgument;
    return {};
}

void idle_wait() {
    // WFI wakes on a pending interrupt even with SIE clear; opening SIE right
    // after takes it here, at a point where the kernel holds no lock.
    riscv::wfi();
    RINGLET_CSR_SET(sstatus, riscv::kSstatusSie);
    RINGLET_CSR_CLEAR(sstatus, riscv::kSstatusSie);
}

Result<void> start_hart(uint32_t hart_id, HartLocal* local, uint64_t root_pa, uint64_t stack_top,
                        HartEntry entry) {
    if (local->index >= BootInfo::kMaxHarts) return Error::OutOfRange;
    HartStart& start = hart_start_blocks[local->index];
    start = HartStart{sv39::satp_for(root_pa), stack_top, reinterpret_cast<uint64_t>(local),
                      reinterpret_cast<uint64_t>(secondary_virt_entry), hart_id, 0};
    auto image_pa = [](const void* va) {
        return reinterpret_cast<uint64_t>(va) - reinterpret_cast<uint64_t>(__image_start) + g_kernel_load_pa;
    };
    asm volatile("fence rw, w" ::: "memory");  // the fields before `published`
    __atomic_store_n(&start.published, 1, __ATOMIC_RELEASE);
    asm volatile("fence rw, rw" ::: "memory");
    const void* target = entry == HartEntry::ImageStart ? static_cast<const void*>(__image_start)
                                                        : reinterpret_cast<const void*>(secondary_entry);
    sbi::SbiRet r = sbi::hart_start(hart_id, image_pa(target), image_pa(&start));
    if (r.error != 0) return r.error == -3 ? Error::InvalidArgument : Error::Busy;
    return {};
}

void activate_page_table(uint64_t root_pa) {
    riscv::sfence_vma_all();
    RINGLET_CSR_WRITE(satp, sv39::satp_for(root_pa));
    riscv::sfence_vma_all();
}

[[noreturn]] void switch_stack(uint64_t top, void (*fn)(void*), void* arg) { ::switch_stack(top, fn, arg); }

[[noreturn]] void enter_user(TrapFrame* frame) { enter_user_asm(frame); }

[[noreturn]] void power_off(int code, const PowerInfo& power) {
    if (code == 0 && sbi::probe_extension(sbi::kExtSrst)) sbi::system_reset(0, 0);
    if (power.present) {
        // sifive,test0: 0x5555 = pass, 0x3333 | code << 16 = fail with code.
        uint32_t value = code == 0 ? 0x5555 : (0x3333 | (static_cast<uint32_t>(code & 0xffff) << 16));
        *reinterpret_cast<volatile uint32_t*>(layout::phys_to_virt(power.base)) = value;
    }
    sbi::system_reset(0, code == 0 ? 0 : 1);
    kprintf("ringlet: no way to power off (SBI SRST failed, no power device); halted\n");
    RINGLET_CSR_CLEAR(sie, ~0ull);
    for (;;) riscv::wfi();
}

void walk_stack(uint64_t fp, uint64_t stack_bottom, uint64_t stack_top, void (*visit)(uint64_t pc, void* ctx),
                void* ctx) {
    // GCC's RISC-V frame: fp (s0) is the caller's sp; ra at fp-8, the
    // caller's fp at fp-16.
    for (int depth = 0; depth < 32; ++depth) {
        if (fp % 8 || fp < stack_bottom + 16 || fp > stack_top) return;
        uint64_t ra = reinterpret_cast<uint64_t*>(fp)[-1];
        uint64_t next = reinterpret_cast<uint64_t*>(fp)[-2];
        if (ra == 0) return;
        visit(ra, ctx);
        if (next <= fp) return;  // frames only go up the stack
        fp = next;
    }
}

uint64_t current_frame_pointer() { return reinterpret_cast<uint64_t>(__builtin_frame_address(0)); }

Result<uint64_t> new_page_table() { return KernelEnv::alloc_table(); }

Result<void> map(uint64_t root_pa, uint64_t va, uint64_t pa, uint64_t size, uint32_t perm) {
    sv39::PageTable<KernelEnv> table(root_pa);
    return table.map(va, pa, size, perm);
}

uint64_t phys_to_virt(uint64_t pa) { return layout::phys_to_virt(pa); }

Result<uint64_t> new_user_page_table(uint64_t kernel_root) {
    uint64_t root = TRY(KernelEnv::alloc_table());
    const uint64_t* from = KernelEnv::table(kernel_root);
    uint64_t* to = KernelEnv::table(root);
    for (size_t i = 256; i < 512; ++i) to[i] = from[i];  // the upper half: the kernel's
    return root;
}

Result<void> unmap(uint64_t root_pa, uint64_t va, uint64_t size) {
    sv39::PageTable<KernelEnv> table(root_pa);
    return table.unmap(va, size);
}

Result<Mapping> translate(uint64_t root_pa, uint64_t va) {
    sv39::PageTable<KernelEnv> table(root_pa);
    auto t = TRY(table.translate(va));
    return Mapping{t.pa, t.perm};
}

void free_user_page_table(uint64_t root_pa) {
    sv39::PageTable<KernelEnv> table(root_pa);
    table.release_tables(0, 255, [](uint64_t pa) { (void)free_frames(pa, 1); });
    (void)free_frames(root_pa, 1);
}

void flush_tlb() { riscv::sfence_vma_all(); }

}  // namespace arch
}  // namespace ringlet
