// The boot path: from head.S's first C++ call to every hart idling online.
//
//   kernel_boot (boot hart, early map, boot stack)
//     → FDT → console → memory → final W^X page table → per-hart stacks
//     → hart_main on the boot hart's guarded stack → secondaries via SBI HSM
//   kernel_secondary (each other hart, final map, its own stack) → hart_main
#include "arch/riscv64/layout.h"
#include "kernel/app_loader.h"
#include "kernel/arch.h"
#include "kernel/cap/machine_caps.h"
#include "kernel/lib/boot_args.h"
#include "kernel/console/console.h"
#include "kernel/fdt/fdt.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/kernel_space.h"
#include "kernel/mm/memory_map.h"
#include "kernel/panic.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "kernel/smp/mailbox.h"
#include "ringlet/bits.h"

extern "C" char __image_start[], __image_end[];
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace ringlet {

extern uint64_t g_kernel_load_pa;

namespace {

// Boot-time state, written by the boot hart before any other hart starts and
// read-only afterwards.
BootInfo g_boot_info;
KernelSpace g_kernel_space;
HartLocal g_harts[BootInfo::kMaxHarts];  // entry i is touched only by hart index i
size_t g_hart_count;
FrameAllocator g_frames;
uint64_t g_timer_interval;  // ticks between a hart's timer interrupts while it waits to be counted

[[noreturn]] void fail_early(const char* what, Error e) {
    kprintf("ringlet: %s: %s\n", what, error_name(e));
    shutdown(2);
}

Result<void> init_memory(const BootInfo& info, uint64_t load_pa, uint64_t fdt_pa) {
    PhysRange reserved[BootInfo::kMaxReserved + 3];
    size_t n = 0;
    for (size_t i = 0; i < info.reserved_count; ++i) reserved[n++] = info.reserved[i];
    reserved[n++] = PhysRange{load_pa, static_cast<uint64_t>(__image_end - __image_start)};
    reserved[n++] = PhysRange{fdt_pa, info.fdt_size};
    if (info.has_initrd) reserved[n++] = info.initrd;

    PhysRange usable[FrameAllocator::kMaxRanges];
    size_t count = TRY(subtract_reserved(info.memory, info.memory_count, reserved, n, usable,
                                         FrameAllocator::kMaxRanges));
    if (count == 0) return Error::OutOfMemory;
    // The bitmap lives at the start of the largest usable range.
    size_t bytes = FrameAllocator::bitmap_bytes(usable, count);
    size_t largest = 0;
    for (size_t i = 1; i < count; ++i)
        if (usable[i].size > usable[largest].size) largest = i;
    if (usable[largest].size < bytes + layout::kPageSize) return Error::OutOfMemory;
    uint64_t bitmap_pa = usable[largest].base;
    auto* bitmap = reinterpret_cast<uint64_t*>(layout::phys_to_virt(bitmap_pa));
    TRY(g_frames.init(usable, count, bitmap, bytes));
    TRY(g_frames.reserve(bitmap_pa, bytes));
    kprintf("memory: %lu MiB usable in %lu ranges, kernel at %p (%lu KiB)\n",
            g_frames.free_frames() * 4096 >> 20, count, reinterpret_cast<void*>(load_pa),
            static_cast<uint64_t>(__image_end - __image_start) >> 10);
    return {};
}

void on_all_online();
void panic_test_fault();
size_t start_initial_apps(const BootArgs& args);

// `hart_start=image` sends the secondaries to the image's first byte, as a
// racing firmware may, to prove head.S's boot lottery sends them on.
arch::HartEntry secondary_entry_for(const BootArgs& args) {
    size_t len = 0;
    const char* where = args.value("hart_start", &len);
    return where && len == 5 && __builtin_memcmp(where, "image", 5) == 0 ? arch::HartEntry::ImageStart
                                                                          : arch::HartEntry::Secondary;
}

// Every hart ends up here on its own guarded stack.
[[noreturn]] void hart_main(void* arg) {
    auto* local = static_cast<HartLocal*>(arg);
    arch::init_hart(local);
    init_hart_interrupts(*local);
    arch::enable_interrupts();
    local->online = true;
    kprintf("hart %u online\n", local->hart_id);
    // One timer interrupt proves this hart's timer path before it runs apps.
    local->timer_armed = 0;  // set behind the scheduler's back: unknown to it
    arch::set_timer(arch::now() + g_timer_interval, local->has_sstc);
    while (__atomic_load_n(&local->timer_ticks, __ATOMIC_ACQUIRE) == 0) arch::idle_wait();
    if (local->index == 0) {
        if (auto r = init_mailboxes(g_hart_count); !r) panic("hart_main: mailboxes: %s", error_name(r.error()));
        const arch::HartEntry entry = secondary_entry_for(BootArgs(g_boot_info.bootargs));
        for (size_t i = 1; i < g_hart_count; ++i) {
            HartLocal& other = g_harts[i];
            if (auto r = arch::start_hart(other.hart_id, &other, g_kernel_space.root_pa, other.stack_top, entry); !r)
                panic("hart_main: cannot start hart %u: %s", other.hart_id, error_name(r.error()));
        }
        on_all_online();
    }
    run_dispatchers(*local);
}

// The boot hart, once every hart is online and has taken a timer interrupt.
void on_all_online() {
    for (;;) {
        size_t ready = 0;
        for (size_t i = 0; i < g_hart_count; ++i)
            if (g_harts[i].online && __atomic_load_n(&g_harts[i].timer_ticks, __ATOMIC_ACQUIRE) > 0) ++ready;
        if (ready == g_hart_count) break;
        arch::idle_wait();
    }
    kprintf("all %lu harts online\n", g_hart_count);
    BootArgs args(g_boot_info.bootargs);
    if (args.has("panic_test")) panic_test_fault();
    size_t started = start_initial_apps(args);
    if (args.has("shutdown")) {
        if (started == 0) {
            kprintf("shutdown requested: powering off\n");
            shutdown(0);
        }
        shutdown_when_all_done(true);
    }
}

// The harts of an init spec's "@..." part: "N", "N-M" or "all" (dense
// indices); 0 if malformed or none of them exists.
uint64_t parse_harts(const char* s, size_t len) {
    if (len == 3 && s[0] == 'a' && s[1] == 'l' && s[2] == 'l')
        return g_hart_count >= 64 ? ~0ull : (1ull << g_hart_count) - 1;
    size_t first = 0, last = 0, i = 0;
    bool range = false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i) first = first * 10 + static_cast<size_t>(s[i] - '0');
    if (i == 0) return 0;
    last = first;
    if (i < len && s[i] == '-') {
        size_t j = ++i;
        last = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i) last = last * 10 + static_cast<size_t>(s[i] - '0');
        range = i > j;
        if (!range) return 0;
    }
    if (i != len || last < first || last >= g_hart_count || last >= 64) return 0;
    uint64_t mask = 0;
    for (size_t h = first; h <= last; ++h) mask |= 1ull << h;
    return mask;
}

// The memory budget of each init= app: `app_mem=MiB`, default 32 MiB.
uint64_t init_app_budget(const BootArgs& args) {
    size_t len = 0;
    const char* text = args.value("app_mem", &len);
    uint64_t mib = 0;
    for (size_t i = 0; text && i < len && i < 7 && text[i] >= '0' && text[i] <= '9'; ++i)
        mib = mib * 10 + static_cast<uint64_t>(text[i] - '0');
    return (mib ? mib : 32) << 20;
}

// True if no init entry before `pos` in `list` is named `name`.
bool first_of_name(const char* list, size_t pos, const char* name, size_t name_len) {
    for (size_t p = 0; p < pos;) {
        size_t e = p;
        while (e < pos && list[e] != ':' && list[e] != '@' && list[e] != ',') ++e;
        if (e - p == name_len && __builtin_memcmp(list + p, name, name_len) == 0) return false;
        while (p < pos && list[p] != ',') ++p;
        ++p;
    }
    return true;
}

// Loads an init= app, gives it its root capabilities, makes it runnable.
Result<Dispatcher*> start_init_app(const AppStart& start, uint64_t budget, uint32_t device_mask, uint64_t harts) {
    Dispatcher* d = TRY(prepare_app(start));
    d->placement_harts = harts;  // before it runs: it reads them to span
    if (auto r = give_init_caps(*d, budget, device_mask); !r) {
        d->state = DispatcherState::Dead;
        discard_dispatcher(d);
        return r.error();
    }
    launch_app(d, start.hart_index);
    return d;
}

// Starts the apps of `init=name[:arg...][@harts],...` (default: hello, if
// the initrd has it), with their ':'-separated arguments and their root
// capabilities (the devices `dev=` names for it, kernel/cap/boot_caps.h).
// "@N" runs it on the hart with dense index N (default 0); "@N-M" or "@all"
// starts it on the first and asks it to span onto the rest (user/rt/cores.h;
// its hart caps are the authority). Apps for other harts travel there as
// messages. Returns how many started.
size_t start_initial_apps(const BootArgs& args) {
    if (!g_boot_info.has_initrd) {
        kprintf("no initrd: no apps to start\n");
        return 0;
    }
    set_initrd(g_boot_info.initrd);
    if (auto r = create_boot_caps(g_boot_info, static_cast<uint32_t>(g_hart_count)); !r)
        panic("start_initial_apps: boot capabilities: %s", error_name(r.error()));
    const uint64_t budget = init_app_budget(args);
    size_t dev_len = 0;
    const char* dev = args.value("dev", &dev_len);
    size_t len = 0;
    const char* list = args.value("init", &len);
    if (!list) list = "hello", len = 5;
    size_t started = 0;
    for (size_t pos = 0; pos < len;) {
        size_t end = pos;
        while (end < len && list[end] != ',') ++end;
        // name[:arg...][@hart]: the hart index follows the last '@', if any.
        size_t spec_end = end;
        for (size_t i = pos; i < end; ++i)
            if (list[i] == '@') spec_end = i;
        uint64_t harts = spec_end < end ? parse_harts(list + spec_end + 1, end - spec_end - 1) : 1;
        size_t hart = harts ? static_cast<size_t>(count_trailing_zeros(harts)) : ~size_t{0};
        size_t name_end = pos;
        while (name_end < spec_end && list[name_end] != ':') ++name_end;
        char arg_text[256];
        size_t arg_len = 0;
        for (size_t i = name_end + 1; i < spec_end && arg_len < sizeof arg_text; ++i)
            arg_text[arg_len++] = list[i] == ':' ? ' ' : list[i];
        const char* name = list + pos;
        int name_len = static_cast<int>(name_end - pos);
        const uint32_t devices = boot_device_mask(dev, dev_len, name, static_cast<size_t>(name_len), pos == 0,
                                                  first_of_name(list, pos, name, static_cast<size_t>(name_len)),
                                                  g_boot_info.virtio_count);
        pos = end + 1;
        if (hart >= g_hart_count) {
            kprintf("init: app '%.*s': no such hart index\n", name_len, name);
            continue;
        }
        AppStart start{name, static_cast<size_t>(name_len), arg_text, arg_len, hart,
                       g_boot_info.timebase_frequency};
        if (auto d = start_init_app(start, budget, devices, harts); !d) {
            kprintf("init: cannot start app '%.*s': %s\n", name_len, name, error_name(d.error()));
            continue;
        }
        ++started;
    }
    return started;
}

// Deliberately stores through a null pointer: the panic path's test.
__attribute__((noinline)) void panic_test_fault() {
    kprintf("panic_test: faulting on purpose\n");
    // The address comes through an asm barrier so the compiler cannot see it.
    uintptr_t address = 0x10;
    asm volatile("" : "+r"(address));
    *reinterpret_cast<volatile uint64_t*>(address) = 0xdead;
    asm volatile("" ::: "memory");  // keeps this frame intact at the fault, for the backtrace
}

}  // namespace

FrameAllocator& frames() { return g_frames; }

Result<Dispatcher*> prepare_app(const AppStart& start) {
    if (start.hart_index >= g_hart_count) return Error::OutOfRange;
    return load_app(start, g_kernel_space.root_pa);
}

void launch_app(Dispatcher* d, size_t hart_index) {
    kprintf("init: starting app '%s' on hart %u\n", d->name, g_harts[hart_index].hart_id);
    if (hart_index == current_hart_index()) {
        place_dispatcher(g_harts[hart_index], d);
    } else if (auto r = send_to_hart(hart_index, HartMessageType::StartDispatcher, reinterpret_cast<uint64_t>(d)); !r) {
        panic("launch_app: %s", error_name(r.error()));
    }
}

Result<Dispatcher*> start_app(const AppStart& start) {
    Dispatcher* d = TRY(prepare_app(start));
    launch_app(d, start.hart_index);
    return d;
}

uint64_t timebase_frequency() { return g_boot_info.timebase_frequency; }
HartLocal& hart_by_index(size_t index) { return g_harts[index]; }
size_t hart_count() { return g_hart_count; }

void on_timer_interrupt() {
    HartLocal* local = arch::hart_local();
    const uint64_t before = __atomic_fetch_add(&local->timer_ticks, 1, __ATOMIC_RELEASE);
    arch::timer_off(local->has_sstc);
    local->timer_armed = HartLocal::kTimerOff;
    // The boot hart sleeps until every hart has reported its first tick
    // (on_all_online); wake it to look - once: every later tick is this
    // hart's own business, and an IPI per tick would wake the boot hart (and
    // cost an SBI call here) for nothing, once for each tick of every other
    // hart (a sleep cap, a slice, a wait deadline).
    if (local->index != 0 && before == 0) (void)arch::send_ipi(g_harts[0].hart_id);
}

void on_software_interrupt() { drain_mailbox(); }

void on_external_interrupt() { handle_external_interrupt(*arch::hart_local()); }


extern "C" [[noreturn]] void kernel_boot(uint64_t hart_id, uint64_t fdt_pa, uint64_t load_pa) {
    g_kernel_load_pa = load_pa;
    static HartLocal boot_local;  // until the per-hart array is set up
    boot_local.hart_id = static_cast<uint32_t>(hart_id);
    arch::init_hart(&boot_local);
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();

    const void* fdt = reinterpret_cast<const void*>(layout::phys_to_virt(fdt_pa));
    if (auto r = parse_boot_info(fdt, 1u << 20, g_boot_info); !r) fail_early("cannot parse the device tree", r.error());
    BootInfo& info = g_boot_info;
    set_power_info(info.power);
    if (auto uart = Uart::create(info.uart, layout::phys_to_virt(info.uart.base))) console_use_uart(*uart);
    else kprintf("ringlet: no UART we drive in the device tree; staying on the SBI console\n");

    kprintf("\nRinglet %s: an asynchronous exokernel for RISC-V (boot hart %lu)\n", RINGLET_VERSION, hart_id);
    kprintf("bootargs: \"%s\"\n", info.bootargs);
    if (info.timebase_frequency == 0) fail_early("device tree has no timebase-frequency", Error::NotFound);
    g_timer_interval = info.timebase_frequency / 100;

    if (auto r = init_memory(info, load_pa, fdt_pa); !r) fail_early("no usable memory", r.error());
    auto space = build_kernel_space(info, load_pa);
    if (!space) fail_early("cannot build the kernel page table", space.error());
    g_kernel_space = *space;
    arch::activate_page_table(g_kernel_space.root_pa);
    init_interrupts(info, layout::phys_to_virt(info.plic.base));

    // Dense hart indices: the boot hart is 0, then every other hart the FDT
    // marks usable and able to run our Sv39 kernel.
    for (size_t i = 0; i < info.hart_count; ++i) {
        const HartInfo& h = info.harts[i];
        if (h.hart_id == hart_id) {
            g_harts[0].has_sstc = h.has_sstc;
            g_harts[0].has_vector = h.has_vector;
            g_harts[0].plic_context = h.plic_s_context;
        }
    }
    g_harts[0].hart_id = static_cast<uint32_t>(hart_id);
    g_hart_count = 1;
    for (size_t i = 0; i < info.hart_count; ++i) {
        const HartInfo& h = info.harts[i];
        if (h.hart_id == hart_id) continue;
        if (!h.enabled || !h.has_mmu) {
            kprintf("hart %u: %s, left alone\n", h.hart_id, h.enabled ? "no MMU" : "disabled");
            continue;
        }
        HartLocal& local = g_harts[g_hart_count];
        local.hart_id = h.hart_id;
        local.index = static_cast<uint32_t>(g_hart_count++);
        local.has_sstc = h.has_sstc;
        local.has_vector = h.has_vector;
        local.plic_context = h.plic_s_context;
    }
    for (size_t i = 0; i < g_hart_count; ++i) {
        auto stack = map_kernel_stack(g_kernel_space, static_cast<uint32_t>(i));
        if (!stack) fail_early("cannot map a kernel stack", stack.error());
        g_harts[i].stack_bottom = stack->bottom;
        g_harts[i].stack_top = stack->top;
        g_harts[i].kernel_top = stack->top;
        g_harts[i].emergency_top = stack->emergency_top;
        g_harts[i].timer_slice = info.timebase_frequency / Scheduler::kSliceDivisor;
    }
    arch::switch_stack(g_harts[0].stack_top, hart_main, &g_harts[0]);
}

extern "C" [[noreturn]] void kernel_secondary(HartLocal* local) { hart_main(local); }

}  // namespace ringlet
