#include "kernel/sched/dispatch.h"

#include "kernel/arch.h"
#include "kernel/cap/machine_caps.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/console/console.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/smp/hart_local.h"
#include "kernel/smp/mailbox.h"

namespace ringlet {
namespace {

constexpr size_t kMaxDispatchers = 64;
// Frame ranges a dispatcher owns (its segments and stack, each in as many
// pieces as fragmentation needed, app_loader.cc).
constexpr size_t kMaxOwnedRanges = 96;

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
uint64_t g_fp_state[kMaxDispatchers][arch::kUserExtStateWords];
// The FP/vector state an upcall interrupted (UpcallState::saved holds the rest).
uint64_t g_upcall_ext[kMaxDispatchers][arch::kUserExtStateWords];
uint32_t g_next_id = 1;
uint32_t g_live = 0;
uint64_t g_kernel_root = 0;
bool g_shutdown_when_done = false;

size_t slot_of(const Dispatcher* d) { return static_cast<size_t>(d - g_pool); }

// Returns a dispatcher's slot to the pool; the machine powers off after the
// last one if asked to.
void free_slot(Dispatcher* d) {
    uint32_t left;
    {
        SpinGuard guard(g_pool_lock);
        d->state = DispatcherState::Free;
        d->leader = nullptr;
        left = --g_live;
    }
    if (left == 0 && __atomic_load_n(&g_shutdown_when_done, __ATOMIC_ACQUIRE)) {
        kprintf("tlb: %lu remote shootdown IPIs sent\n", remote_shootdowns_sent_all());
        kprintf("all apps done: powering off\n");
        shutdown(0);
    }
}

// Asks every other live member of `d`'s domain to end (each on its own hart,
// by message). Once per domain: the first member to end does it.
void end_other_members(Dispatcher* d) {
    Dispatcher& dom = domain_of(*d);
    struct Target {
        Dispatcher* d;
        uint32_t id, hart;
    } targets[kMaxDispatchers];
    size_t n = 0;
    {
        SpinGuard guard(g_pool_lock);
        if (dom.ending || dom.members <= 1) {
            dom.ending = true;
            return;
        }
        dom.ending = true;
        for (auto& m : g_pool) {
            // A member not yet placed ends itself on arrival (place_dispatcher
            // sees `ending`): a message could overtake its StartDispatcher.
            if (&m == d || m.state == DispatcherState::Free || !m.placed || &domain_of(m) != &dom) continue;
            if (&m == &dom && m.state == DispatcherState::Dead) continue;  // a leader waiting for its members
            targets[n++] = Target{&m, m.id, m.hart_index};
        }
    }
    kprintf("app %s: ending it on every hart it spans\n", dom.name);
    for (size_t i = 0; i < n; ++i) {
        if (targets[i].hart == current_hart_index()) {
            kill_dispatcher(targets[i].d, targets[i].id);
        } else if (auto r = send_to_hart(targets[i].hart, HartMessageType::EndDispatcher,
                                         reinterpret_cast<uint64_t>(targets[i].d), targets[i].id);
                   !r) {
            panic("end_other_members: %s", error_name(r.error()));
        }
    }
}

// Frees what the whole domain shares: its capabilities, address space and
// frames. The last member to go does it.
void release_domain(Dispatcher& dom) {
    release_caps(dom);
    dom.space = AddressSpace();
    OwnedFrames& owned = g_owned[slot_of(&dom)];
    for (size_t i = 0; i < owned.used; ++i) {
        if (auto r = free_frames(owned.pa[i], owned.count[i]); !r)
            panic("release: frames of %s: %s", dom.name, error_name(r.error()));
    }
    owned.used = 0;
}

void release(Dispatcher* d) {
    // Off its space, if this hart runs in it (its current dispatcher, or
    // none: idle after it): the hart leaves the domain's member_harts below,
    // so it gets no more TLB shootdowns for it, and the last member frees
    // its tables. (An app that never ran, discarded during another app's
    // syscall, is not active here: that app's space must stay.)
    Dispatcher* cur = arch::hart_local()->sched.current();
    if (!cur || &domain_of(*cur) == &domain_of(*d)) arch::activate_page_table(g_kernel_root);
    // Its interrupts and channel bindings first: their mappings live in the
    // space freed below.
    unbind_irqs(*arch::hart_local(), *d);
    end_other_members(d);
    Dispatcher& dom = domain_of(*d);
    uint32_t members_left;
    {
        SpinGuard guard(g_pool_lock);
        members_left = --dom.members;
        dom.member_harts &= ~(1ull << d->hart_index);
    }
    if (members_left > 0) {
        release_member_caps(*d);
        // A leader stays (Dead, on no queue) while members use its space.
        if (d != &dom) free_slot(d);
        return;
    }
    if (d != &dom) release_member_caps(*d);
    release_domain(dom);
    if (d != &dom) free_slot(d);
    free_slot(&dom);
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
    if (Dispatcher* cur = s.current(); cur && cur->upcall.deadline != UpcallState::kNoLook) {
        if (!deadline || cur->upcall.deadline < deadline) deadline = cur->upcall.deadline;
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
    arch::activate_page_table(domain_of(*d).space.root());
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
                d->leader = nullptr;
                d->members = 1;
                d->member_harts = d->placement_harts = 0;
                d->ending = false;
                d->placed = false;
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
    d->upcall = UpcallState{};
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
    Dispatcher& dom = domain_of(*d);
    bool ending;
    {
        // Under the lock end_other_members takes: either it sees this member
        // placed (and ends it) or this sees the domain ending.
        SpinGuard guard(g_pool_lock);
        ending = dom.ending;
        if (!ending) {
            dom.member_harts |= 1ull << local.index;
            d->placed = true;
        }
    }
    d->hart_index = local.index;
    if (ending) {
        d->state = DispatcherState::Dead;
        release(d);
        return;
    }
    local.sched.enqueue(d);
}

Result<Dispatcher*> span_dispatcher(Dispatcher& from, size_t hart_index, const SpanStart& start) {
    Dispatcher& dom = domain_of(from);
    if (hart_index >= hart_count() || hart_index >= 64) return Error::OutOfRange;
    Dispatcher* d = nullptr;
    {
        SpinGuard guard(g_pool_lock);
        if (dom.ending) return Error::BadCapability;  // the app is ending
        // One dispatcher per hart and domain: a core's state is per hart.
        if (dom.member_harts >> hart_index & 1) return Error::Busy;
        for (auto& slot : g_pool) {
            if (slot.state == DispatcherState::Free) {
                d = &slot;
                break;
            }
        }
        if (!d) return Error::Full;
        // Reserved but not placed: place_dispatcher sets the hart bit, so a
        // second span to this hart before then is refused only by this bit.
        dom.member_harts |= 1ull << hart_index;
        d->state = DispatcherState::Blocked;
        __atomic_store_n(&d->id, g_next_id++, __ATOMIC_RELEASE);
        d->leader = &dom;
        d->cap_table = dom.cap_table;
        d->caps_closed = false;
        d->members = 0;
        d->member_harts = d->placement_harts = 0;
        d->ending = false;
        d->placed = false;
        ++dom.members;
        ++g_live;
    }
    __builtin_memcpy(d->name, dom.name, Dispatcher::kNameMax);
    d->notifications = d->wait_mask = d->wake_deadline = 0;
    d->irq_line_count = 0;
    d->irq_in_service = 0;
    d->exit_code = 0;
    d->has_wake_value = false;
    d->upcall = UpcallState{};
    d->next = nullptr;
    arch::init_user_frame(d->frame, start.entry, start.stack_top, {hart_index, start.arg, 0, 0});
    arch::set_start_arg(d->frame, 2, start_features(d->frame));
    arch::set_start_thread_pointer(d->frame, start.thread_pointer);
    return d;
}

uint64_t domain_placement_harts(Dispatcher& d) {
    SpinGuard guard(g_pool_lock);
    return domain_of(d).placement_harts;
}

void kill_dispatcher(Dispatcher* d, uint32_t id) {
    if (__atomic_load_n(&d->id, __ATOMIC_ACQUIRE) != id) return;  // gone, slot reused
    HartLocal& local = *arch::hart_local();
    switch (d->state) {
    case DispatcherState::Free:
    case DispatcherState::Dead: return;
    case DispatcherState::Blocked:
        if (local.sched.current() == d) break;  // in a syscall on this hart
        local.sched.remove_blocked(d);
        d->state = DispatcherState::Dead;
        kprintf("app %s (hart %u) ended with its app\n", d->name, local.hart_id);
        release(d);
        return;
    case DispatcherState::Runnable:
        if (local.sched.current() == d) break;
        local.sched.remove_runnable(d);
        d->state = DispatcherState::Dead;
        kprintf("app %s (hart %u) ended with its app\n", d->name, local.hart_id);
        release(d);
        return;
    }
    // Running here (this message interrupted it): it ends on its way back to
    // U-mode (return_to_user_keeps_current sees it Dead).
    d->state = DispatcherState::Dead;
    kprintf("app %s (hart %u) ended with its app\n", d->name, local.hart_id);
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
        if (d.state != DispatcherState::Free && d.state != DispatcherState::Dead && d.id == id) return &d;
    return nullptr;
}

void notify_dispatcher(Dispatcher* d, uint32_t id, uint32_t bit) {
    if (__atomic_load_n(&d->id, __ATOMIC_ACQUIRE) != id) return;  // ended, slot reused
    if (d->state == DispatcherState::Free || d->state == DispatcherState::Dead) return;
    d->notifications |= 1ull << bit;  // picked up by wake_due on the way back to user mode
}

uint64_t table_member_harts(uint32_t table) {
    // A table is its leader's pool slot (create_dispatcher): the leader
    // holds the domain's member_harts.
    if (table >= kMaxDispatchers) return 0;
    SpinGuard guard(g_pool_lock);
    const Dispatcher& leader = g_pool[table];
    return leader.state == DispatcherState::Free ? 0 : leader.member_harts;
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

namespace {

// The current dispatcher's upcall look (kernel/sched/upcall.h), on the way
// back to U-mode from a trap that saved all of `frame`: if its app's code
// ran a whole period without entering its libOS, `frame` becomes the
// upcall's and the interrupted registers wait in `saved`.
void look_for_upcall(HartLocal& local, TrapFrame& frame) {
    Dispatcher* d = local.sched.current();
    if (!d || d->upcall.deadline == UpcallState::kNoLook || d->state != DispatcherState::Runnable) return;
    const uint64_t now = arch::now();
    if (now < d->upcall.deadline) return;
    UpcallArea area;
    const bool readable = domain_of(*d).space.copy_in(&area, d->upcall.area, sizeof area).ok();
    if (judge_upcall(d->upcall, now, readable ? &area : nullptr) != UpcallVerdict::Deliver) return;
    UpcallState& u = d->upcall;
    u.saved = frame;
    arch::save_ext_state_all(u.saved, g_upcall_ext[slot_of(d)]);
    frame.sstatus = u.saved.sstatus;  // the units it uses stay on, now marked saved
    frame.sepc = u.entry;
    frame.sp() = u.stack_top;
    frame.ra() = 0;
    frame.a(0) = u.saved.sepc;
    upcall_entered(u);
}

// The second half of kUpcallReturn (invoke_upcall): the interrupted
// registers, all of them, come back into `frame`.
void finish_upcall_return(Dispatcher& d, TrapFrame& frame) {
    UpcallState& u = d.upcall;
    u.returning = false;
    frame = u.saved;
    arch::reload_ext_state(frame, g_upcall_ext[slot_of(&d)]);
    upcall_returned(u, arch::now());
}

}  // namespace

Result<bool> invoke_upcall(Dispatcher& d, const UpcallRequest& req) {
    UpcallState& u = d.upcall;
    switch (req.op) {
    case kUpcallArm: u.arm(req.entry, req.stack_top, req.area, req.period, arch::now()); return true;
    case kUpcallDisarm: u.disarm(); return true;
    default:
        if (!u.running) return Error::InvalidArgument;
        u.returning = true;
        return false;
    }
}

void switch_dispatchers(TrapFrame& frame) {
    HartLocal& local = *arch::hart_local();
    Scheduler& s = local.sched;
    if (Dispatcher* cur = s.current()) {
        if (cur->upcall.returning) [[unlikely]] finish_upcall_return(*cur, frame);
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
    HartLocal& local = *arch::hart_local();
    look_for_upcall(local, frame);
    if (!return_to_user_keeps_current(local)) switch_dispatchers(frame);
}

}  // namespace ringlet
