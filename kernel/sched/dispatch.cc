#include "kernel/sched/dispatch.h"

#include "kernel/arch.h"
#include "kernel/cap/machine_caps.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/console/console.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/smp/hart_local.h"

namespace ringlet {
namespace {

constexpr size_t kMaxDispatchers = 64;
constexpr size_t kMaxOwnedRanges = 48;

struct OwnedFrames {
    uint64_t pa[kMaxOwnedRanges];
    uint64_t count[kMaxOwnedRanges];
    size_t used = 0;
};

// The dispatcher pool. Allocation and release take g_pool_lock (any hart may
// create an app; it is control plane, never a fast path). A live dispatcher
// belongs to the hart it was placed on.
SpinLock g_pool_lock;
Dispatcher g_pool[kMaxDispatchers];
OwnedFrames g_owned[kMaxDispatchers];
uint64_t g_fp_state[kMaxDispatchers][33];
uint32_t g_next_id = 1;
uint32_t g_live = 0;
uint64_t g_kernel_root = 0;
bool g_shutdown_when_done = false;

size_t slot_of(const Dispatcher* d) { return static_cast<size_t>(d - g_pool); }

void release(Dispatcher* d) {
    // Its interrupts and capabilities first: their mappings live in the
    // space freed below.
    unbind_irqs(*arch::hart_local(), *d);
    release_caps(*d);
    // Off this space before its tables go — if it is the one this hart runs
    // in (an app that never ran, discarded during another app's syscall, is
    // not: that app's space must stay active).
    if (arch::hart_local()->sched.current() == d) arch::activate_page_table(g_kernel_root);
    d->space = AddressSpace();
    OwnedFrames& owned = g_owned[slot_of(d)];
    for (size_t i = 0; i < owned.used; ++i) {
        if (auto r = frames().free(owned.pa[i], owned.count[i]); !r)
            panic("release: frames of %s: %s", d->name, error_name(r.error()));
    }
    owned.used = 0;
    uint32_t left;
    {
        SpinGuard guard(g_pool_lock);
        d->state = DispatcherState::Free;
        left = --g_live;
    }
    if (left == 0 && __atomic_load_n(&g_shutdown_when_done, __ATOMIC_ACQUIRE)) {
        kprintf("all apps done: powering off\n");
        shutdown(0);
    }
}

// Arms this hart's timer for the earliest of: a blocked dispatcher's
// deadline, the running dispatcher's slice end (only if others wait).
void program_timer(HartLocal& local, uint64_t earliest_wake) {
    Scheduler& s = local.sched;
    uint64_t deadline = earliest_wake;
    if (s.current() && s.has_waiting()) {
        if (!s.slice_end()) s.set_slice_end(arch::now() + local.timer_slice);
        if (!deadline || s.slice_end() < deadline) deadline = s.slice_end();
    } else {
        s.set_slice_end(0);
    }
    arm_timer(local, deadline ? deadline : HartLocal::kTimerOff);
}

// Picks the next dispatcher, sleeping until one is runnable.
Dispatcher* pick_or_idle(HartLocal& local) {
    Scheduler& s = local.sched;
    for (;;) {
        uint64_t earliest = s.wake_due(arch::now());
        if (Dispatcher* d = s.pick()) {
            s.set_current(d);
            s.set_slice_end(0);
            program_timer(local, earliest);
            return d;
        }
        s.set_current(nullptr);
        program_timer(local, earliest);
        arch::idle_wait();
    }
}

// Loads `d` into `frame` (the trap frame at the kernel stack top).
void switch_in(Dispatcher* d, TrapFrame& frame) {
    arch::activate_page_table(d->space.root());
    frame = d->frame;
    if (d->has_wake_value) {
        arch::set_syscall_result(frame, 0, d->wake_value);
        d->has_wake_value = false;
    }
    arch::restore_fp(frame, g_fp_state[slot_of(d)]);
}

}  // namespace

Result<Dispatcher*> create_dispatcher(const char* name, uint64_t kernel_root) {
    Dispatcher* d = nullptr;
    {
        SpinGuard guard(g_pool_lock);
        g_kernel_root = kernel_root;
        for (auto& slot : g_pool) {
            if (slot.state == DispatcherState::Free) {
                d = &slot;
                d->state = DispatcherState::Blocked;  // reserved, not yet placed
                __atomic_store_n(&d->id, g_next_id++, __ATOMIC_RELEASE);
                d->cap_table = static_cast<uint32_t>(&slot - g_pool);
                d->caps_closed = false;
                ++g_live;
                break;
            }
        }
    }
    if (!d) return Error::Full;
    size_t i = 0;
    for (; name[i] && i + 1 < Dispatcher::kNameMax; ++i) d->name[i] = name[i];
    d->name[i] = '\0';
    d->notifications = d->wait_mask = d->wake_deadline = 0;
    d->irq_line_count = 0;
    d->irq_in_service = 0;
    d->exit_code = 0;
    d->next = nullptr;
    g_owned[slot_of(d)].used = 0;
    auto space = AddressSpace::create(kernel_root);
    if (!space) {
        release(d);
        return space.error();
    }
    d->space = static_cast<AddressSpace&&>(*space);
    return d;
}

Result<void> dispatcher_own_frames(Dispatcher* d, uint64_t pa, uint64_t count) {
    OwnedFrames& owned = g_owned[slot_of(d)];
    if (owned.used == kMaxOwnedRanges) return Error::Full;
    owned.pa[owned.used] = pa;
    owned.count[owned.used] = count;
    ++owned.used;
    return {};
}

void place_dispatcher(HartLocal& local, Dispatcher* d) {
    d->hart_index = local.index;
    local.sched.enqueue(d);
}

void discard_dispatcher(Dispatcher* d) { release(d); }

void shutdown_when_all_done(bool enable) {
    __atomic_store_n(&g_shutdown_when_done, enable, __ATOMIC_RELEASE);
    // The apps may all have ended already (on other harts) before we got here.
    if (enable && live_dispatchers() == 0) {
        kprintf("all apps done: powering off\n");
        shutdown(0);
    }
}

Dispatcher* find_dispatcher(uint32_t id) {
    SpinGuard guard(g_pool_lock);
    for (auto& d : g_pool)
        if (d.state != DispatcherState::Free && d.id == id) return &d;
    return nullptr;
}

void notify_dispatcher(Dispatcher* d, uint32_t id, uint32_t bit) {
    if (__atomic_load_n(&d->id, __ATOMIC_ACQUIRE) != id) return;  // ended, slot reused
    if (d->state == DispatcherState::Free || d->state == DispatcherState::Dead) return;
    d->notifications |= 1ull << bit;  // picked up by wake_due on the way back to user mode
}

uint32_t live_dispatchers() { return __atomic_load_n(&g_live, __ATOMIC_ACQUIRE); }

// Runs below the trap frame slot at the top of the kernel stack, which the
// first dispatcher's registers are copied into.
[[noreturn]] void enter_first_dispatcher(void* arg) {
    HartLocal& local = *static_cast<HartLocal*>(arg);
    Dispatcher* d = pick_or_idle(local);
    auto* frame = reinterpret_cast<TrapFrame*>(local.kernel_top - sizeof(TrapFrame));
    switch_in(d, *frame);
    arch::enter_user(frame);
}

[[noreturn]] void run_dispatchers(HartLocal& local) {
    // Whatever is on this stack now is abandoned: from here on the hart only
    // runs apps and handles their traps.
    arch::switch_stack(local.kernel_top - sizeof(TrapFrame), enter_first_dispatcher, &local);
}

void end_current(HartLocal& local, int64_t code) {
    Dispatcher* d = local.sched.current();
    d->exit_code = code;
    d->state = DispatcherState::Dead;
    kprintf("app %s (hart %u) exited with code %ld\n", d->name, local.hart_id, code);
}

void write_timer(HartLocal& local, uint64_t at) {
    local.timer_armed = at;
    arch::set_timer(at, local.has_sstc);
}

bool keeps_current_among_others(HartLocal& local) {
    Scheduler& s = local.sched;
    uint64_t now = arch::now();
    uint64_t earliest = s.wake_due(now);
    if (s.slice_end() && now >= s.slice_end() && s.has_waiting()) return false;
    program_timer(local, earliest);
    return true;
}

void switch_dispatchers(TrapFrame& frame) {
    HartLocal& local = *arch::hart_local();
    Scheduler& s = local.sched;
    if (Dispatcher* cur = s.current()) {
        cur->frame = frame;
        arch::save_fp(cur->frame, g_fp_state[slot_of(cur)]);
        if (cur->state == DispatcherState::Runnable) s.enqueue(cur);
        else if (cur->state == DispatcherState::Blocked) s.add_blocked(cur);
        else if (cur->state == DispatcherState::Dead) release(cur);
        s.set_current(nullptr);
    }
    Dispatcher* next = pick_or_idle(local);
    switch_in(next, frame);
}

void on_return_to_user(TrapFrame& frame) {
    if (!return_to_user_keeps_current(*arch::hart_local())) switch_dispatchers(frame);
}

}  // namespace ringlet
