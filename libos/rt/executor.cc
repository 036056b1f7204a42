#include "libos/rt/executor.h"

#include "libos/rt/panic.h"
#include "libos/rt/poll_loop.h"

namespace ringlet::rt {

namespace {
// Per core: on the host a thread stands for a core; on Ringlet each core of
// an app has its own thread-local block, addressed through tp (user/rt/tls.h).
thread_local Executor* g_current = nullptr;

// A task awaited something that never parks it (not a Ringlet awaitable), so
// nothing could ever make it ready again: a programming error.
[[noreturn]] void panic_unparked() { panic("Executor: a task awaited something that never parks it"); }
}  // namespace

Executor* Executor::current() { return g_current; }
void Executor::install(Executor* e) { g_current = e; }

Executor::Executor(Platform& platform, ExecutorConfig config) : m_platform(platform), m_config(config) {
    m_now = m_platform.now_ns();
    // Free list in index order, so the first spawn gets slot 0.
    for (uint32_t i = kMaxTasks; i-- > 0;) {
        m_slots[i].next = m_free_head;
        m_free_head = static_cast<uint16_t>(i);
    }
}

Executor::~Executor() {
    // Tasks still alive at teardown are cancelled: their frames go back to
    // the pool and their awaiters unregister from the timer heap.
    for (uint32_t i = 0; i < kMaxTasks; ++i) {
        if (m_slots[i].state != State::Free) (void)cancel(TaskId{i, m_slots[i].gen});
    }
}

Result<TaskId> Executor::spawn_handle(std::coroutine_handle<> root, TaskClass cls) {
    if (m_free_head == kNil) {
        root.destroy();
        return Error::Full;
    }
    const uint32_t i = m_free_head;
    Slot& s = m_slots[i];
    m_free_head = s.next;
    s.next = kNil;
    s.root = root;
    s.resume = root;
    s.cls = cls;
    s.state = State::Parked;
    s.idle_poller = false;
    ++s.seq;
    ++s.gen;
    ++m_live;
    const TaskId id{i, s.gen};
    make_ready(i);
    return id;
}

void Executor::make_ready(uint32_t i) {
    Slot& s = m_slots[i];
    s.state = State::Ready;  // from Parked (a Waker checks), never twice
    ++m_ready;
    if (s.cls <= TaskClass::App3) {
        m_app[static_cast<uint32_t>(s.cls)].set(i);
    } else {
        fifo_push(fifo_of(s.cls), i);
    }
}

Waker Executor::park(std::coroutine_handle<> h) {
    if (m_running < 0) panic_unparked();
    Slot& s = m_slots[m_running];
    s.resume = h;
    s.state = State::Parked;
    ++s.seq;
    return Waker(this, static_cast<uint32_t>(m_running), s.seq);
}

bool Executor::alive(TaskId id) const {
    return id.slot < kMaxTasks && m_slots[id.slot].state != State::Free && m_slots[id.slot].gen == id.gen;
}

Result<void> Executor::cancel(TaskId id) {
    if (id.slot >= kMaxTasks) return Error::NotFound;
    Slot& s = m_slots[id.slot];
    if (!alive(id)) return Error::NotFound;
    if (static_cast<int32_t>(id.slot) == m_running) return Error::Busy;
    if (s.state == State::Ready) {
        --m_ready;
        if (s.cls <= TaskClass::App3) {
            m_app[static_cast<uint32_t>(s.cls)].clear(id.slot);
        } else {
            fifo_remove(fifo_of(s.cls), id.slot);
        }
    }
    if (s.idle_poller) --m_idle_pollers;
    // Destroying the root destroys the whole chain: each parent frame owns
    // the Task it awaits, and each awaiter unregisters in its destructor.
    s.root.destroy();
    free_slot(id.slot);
    return {};
}

void Executor::free_slot(uint32_t i) {
    Slot& s = m_slots[i];
    s.root = {};
    s.resume = {};
    s.state = State::Free;
    s.idle_poller = false;
    // Wakers of this use can never match again: seq only grows.
    ++s.seq;
    s.next = m_free_head;
    m_free_head = static_cast<uint16_t>(i);
    --m_live;
}

void Executor::run_slot(uint32_t i) {
    Slot& s = m_slots[i];
    s.state = State::Running;  // every caller picked a Ready task
    --m_ready;
    m_running = static_cast<int32_t>(i);
    s.resume.resume();
    m_running = -1;
    if (s.root.done()) {
        s.root.destroy();
        free_slot(i);
    } else if (s.state == State::Running) {
        panic_unparked();
    }
}

bool Executor::has_ready() const { return (m_active_pollers | m_ready) != 0; }

void Executor::fire_timers() {
    if (m_timers.size() == 0) return;
    while (Timer* t = m_timers.pop_due(m_now)) t->fire(t);
}

Result<void> Executor::add_poller(PollSource& src) {
    if (m_npollers == kMaxPollers) return Error::Full;
    m_pollers[m_npollers++] = Poller{&src, 0, false};
    ++m_active_pollers;
    return {};
}

// Inline (run_round, run_once): the network is polled every round, and a
// poll that finds nothing should cost loads, not calls.
[[gnu::always_inline]] inline uint32_t Executor::run_pollers() {
    uint32_t turns = 0;
    for (Poller *p = m_pollers, *end = m_pollers + m_npollers; p != end; ++p) {
        if (p->parked) continue;
        ++turns;
        if (p->src->poll(m_config.poll_batch) > 0) {
            p->idle = 0;
        } else if (++p->idle >= m_config.idle_poll_rounds) {
            p->idle = 0;
            p->parked = true;
            --m_active_pollers;
        }
    }
    return turns;
}

uint32_t Executor::poll_devices(uint32_t rounds) {
    uint32_t handled = 0;
    for (uint32_t r = 0; r < rounds; ++r) {
        refresh_now();
        uint32_t found = 0;
        for (uint32_t k = 0; k < m_npollers; ++k) found += m_pollers[k].src->poll(m_config.poll_batch);
        handled += found;
        if (found == 0) break;
    }
    return handled;
}

void Executor::remove_poller(PollSource& src) {
    for (uint32_t k = 0; k < m_npollers; ++k) {
        if (m_pollers[k].src != &src) continue;
        if (!m_pollers[k].parked) --m_active_pollers;
        m_pollers[k] = m_pollers[--m_npollers];
        return;
    }
}

void Executor::notify_pollers() {
    if (m_active_pollers != m_npollers) {
        for (uint32_t k = 0; k < m_npollers; ++k) m_pollers[k].parked = false;
        m_active_pollers = m_npollers;
    }
    if (m_idle_pollers == 0) return;
    for (uint32_t i = 0; i < kMaxTasks && m_idle_pollers != 0; ++i) {
        Slot& s = m_slots[i];
        if (s.idle_poller) {
            s.idle_poller = false;
            --m_idle_pollers;
            make_ready(i);
        }
    }
}

// The round every wait makes, usually with nothing to do but poll the
// network: kept to the clock read, three compares and the poll calls, with
// everything else (timers, tasks, blocking, another executor current) out
// of line in run_once_slow(), so this one saves few registers.
uint32_t Executor::run_once(bool may_block, uint64_t deadline_ns) {
    if (g_current != this) [[unlikely]] return run_once_slow(may_block, deadline_ns);
    refresh_now();
    if (m_timers.earliest() > m_now && m_ready == 0 && m_active_pollers == m_npollers && m_npollers != 0)
        [[likely]] {
        // Every inline poller is active (none parked): each polls once.
        // run_pollers()'s loop without its parked check: calling it instead
        // measured 8-11 more instructions per echo (executor 57 -> 65 UDP).
        for (uint32_t k = 0; k < m_npollers; ++k) {
            Poller& p = m_pollers[k];
            if (p.src->poll(m_config.poll_batch) > 0) {
                p.idle = 0;
            } else if (++p.idle >= m_config.idle_poll_rounds) {
                p.idle = 0;
                p.parked = true;
                --m_active_pollers;
            }
        }
        // What the polls made ready runs in this round, as in run_round():
        // the same order of events whatever path the round took.
        if (m_ready != 0) [[unlikely]] return m_npollers + run_tasks();
        return m_npollers;
    }
    return run_round_current(may_block, deadline_ns);
}

uint32_t Executor::run_once_slow(bool may_block, uint64_t deadline_ns) {
    Executor* const outer = g_current;
    g_current = this;  // timers fire as this core's executor, as tasks run
    refresh_now();
    const uint32_t resumes = run_round_current(may_block, deadline_ns);
    g_current = outer;
    return resumes;
}

uint32_t Executor::run_round_current(bool may_block, uint64_t deadline_ns) {
    if (m_timers.earliest() <= m_now) fire_timers();
    return run_round(may_block, deadline_ns);
}

bool Executor::any_app_ready() const {
    // Bitwise, not ||: four loads and no branches.
    return (!m_app[0].empty()) | (!m_app[1].empty()) | (!m_app[2].empty()) | (!m_app[3].empty());
}

// Steps 1b-4 of a round (see run_round()).
[[gnu::always_inline]] inline uint32_t Executor::run_tasks_inline() {
    uint32_t resumes = 0;
    if (m_fifo[kFifoPoll].size != 0) resumes += run_poll_tasks();
    // 2 and 3 (out of line): no app task is ready in the usual round of an
    // app whose operations all complete inline.
    if (any_app_ready()) resumes += run_app_tasks();
    // 4. One background task per round: progress, never a flood.
    if (m_fifo[kFifoBackground].size != 0) {
        run_slot(static_cast<uint32_t>(fifo_pop(m_fifo[kFifoBackground])));
        ++resumes;
    }
    return resumes;
}

uint32_t Executor::run_tasks() { return run_tasks_inline(); }

// Inline into run_round_current() (a round off run_once()'s fast path).
// The caller has made this the current executor (run_once, run_until_idle).
[[gnu::always_inline]] inline uint32_t Executor::run_round(bool may_block, uint64_t deadline_ns) {
    uint32_t resumes = 0;
    if (!has_ready()) {
        if (may_block) {
            const uint64_t t = m_timers.earliest();
            ++m_blocks;
            m_platform.block(t < deadline_ns ? t : deadline_ns);
            refresh_now();
            notify_pollers();
            fire_timers();
        }
        return 0;
    }
    // 1. Every inline poller and every poll task that is ready now runs
    //    once (each handles at most poll_batch items, then yields to the
    //    back of the FIFO).
    if (m_active_pollers != 0) resumes += run_pollers();
    return resumes + run_tasks_inline();
}


uint32_t Executor::run_poll_tasks() {
    uint32_t resumes = 0;
    for (uint32_t n = m_fifo[kFifoPoll].size; n > 0; --n) {
        const int32_t i = fifo_pop(m_fifo[kFifoPoll]);
        if (i < 0) break;
        run_slot(static_cast<uint32_t>(i));
        ++resumes;
    }
    return resumes;
}

uint32_t Executor::run_app_tasks() {
    uint32_t resumes = 0;
    // 2. App tasks by strict priority, round-robin inside a class.
    uint32_t served = 0;
    for (uint32_t budget = m_config.app_budget; budget > 0; --budget) {
        uint32_t c = 0;
        while (c < kAppClasses && m_app[c].empty()) ++c;
        if (c == kAppClasses) break;
        const int32_t i = m_app[c].first_from(m_cursor[c]);
        m_app[c].clear(static_cast<uint32_t>(i));
        m_cursor[c] = static_cast<uint32_t>(i) + 1;
        served |= 1u << c;
        run_slot(static_cast<uint32_t>(i));
        ++resumes;
    }
    // 3. Aging: every class that was ready but got no turn gets one.
    for (uint32_t c = 0; c < kAppClasses; ++c) {
        if ((served & (1u << c)) != 0 || m_app[c].empty()) continue;
        const int32_t i = m_app[c].first_from(m_cursor[c]);
        m_app[c].clear(static_cast<uint32_t>(i));
        m_cursor[c] = static_cast<uint32_t>(i) + 1;
        run_slot(static_cast<uint32_t>(i));
        ++resumes;
    }
    return resumes;
}

void Executor::run_until_idle() {
    Executor* const outer = g_current;
    g_current = this;  // as in run_once: timers and tasks run as this core's executor
    for (;;) {
        refresh_now();
        fire_timers();
        if (!has_ready()) break;
        run_round(false, kForever);  // the clock was just read, the timers just run
    }
    g_current = outer;
}

bool Executor::SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
    m_timer.fire = &SleepAwaiter::fire;
    if (!m_exec->add_timer(&m_timer)) {
        m_full = true;
        return false;  // resume at once with Error::Full
    }
    m_timer.waker = m_exec->park(h);
    return true;
}

void Executor::NotificationAwaiter::await_suspend(std::coroutine_handle<> h) {
    (void)exec->park(h);
    // Cancellation clears idle_poller and the count (see cancel()).
    exec->m_slots[exec->m_running].idle_poller = true;
    ++exec->m_idle_pollers;
}

void Executor::fifo_push(Fifo& f, uint32_t i) {
    m_slots[i].next = kNil;
    if (f.tail == kNil) {
        f.head = f.tail = static_cast<uint16_t>(i);
    } else {
        m_slots[f.tail].next = static_cast<uint16_t>(i);
        f.tail = static_cast<uint16_t>(i);
    }
    ++f.size;
}

int32_t Executor::fifo_pop(Fifo& f) {
    if (f.head == kNil) return -1;
    const uint32_t i = f.head;
    f.head = m_slots[i].next;
    if (f.head == kNil) f.tail = kNil;
    m_slots[i].next = kNil;
    --f.size;
    return static_cast<int32_t>(i);
}

void Executor::fifo_remove(Fifo& f, uint32_t i) {
    uint16_t prev = kNil;
    for (uint16_t cur = f.head; cur != kNil; prev = cur, cur = m_slots[cur].next) {
        if (cur != i) continue;
        if (prev == kNil) {
            f.head = m_slots[cur].next;
        } else {
            m_slots[prev].next = m_slots[cur].next;
        }
        if (f.tail == cur) f.tail = prev;
        m_slots[cur].next = kNil;
        --f.size;
        return;
    }
}

}  // namespace ringlet::rt
