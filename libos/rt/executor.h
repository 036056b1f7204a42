// Executor: one per core; runs tasks picked from bitmaps, never inline.
//
// Classes: four app priority classes (App0 highest) picked with ctz from a
// ReadySet each, round-robin inside a class; Background and Poll tasks run in
// FIFO order. A round runs every ready poll task once, then up to
// app_budget app tasks by priority, then one app task from every class that
// got none (so no class starves), then one background task. A wake-up only
// sets a bit (or appends to a FIFO); the task runs in a later pick. With
// nothing ready, the core blocks in Platform::block() until a notification
// or the earliest timer.
#pragma once

#include <coroutine>
#include <stdint.h>

#include "libos/rt/platform.h"
#include "libos/rt/ready_set.h"
#include "libos/rt/task.h"
#include "libos/rt/timer_heap.h"
#include "ringlet/result.h"

namespace ringlet::rt {

class Executor;
class PollSource;  // libos/rt/poll_loop.h

enum class TaskClass : uint8_t { App0 = 0, App1, App2, App3, Background, Poll };

// Names a spawned task; stale once the task finished or was cancelled.
struct TaskId {
    uint32_t slot = ~uint32_t{0};
    uint32_t gen = 0;
};

// Makes one parked task ready. Copyable; a stale Waker (task resumed since,
// finished or cancelled) does nothing.
class Waker {
public:
    Waker() = default;
    Waker(Executor* e, uint32_t slot, uint32_t seq) : m_exec(e), m_slot(slot), m_seq(seq) {}
    // Marks the task ready if it is still parked where this Waker was made.
    void wake() const;
    bool valid() const { return m_exec != nullptr; }
    bool operator==(const Waker&) const = default;

private:
    Executor* m_exec = nullptr;
    uint32_t m_slot = 0;
    uint32_t m_seq = 0;
};

struct ExecutorConfig {
    uint32_t app_budget = 64;       // app resumes per round before others get a turn
    uint32_t poll_batch = 32;       // items a poll task may handle before yielding
    uint32_t idle_poll_rounds = 1;  // empty polls before a poll task parks (a wake-up re-polls)
};

class Executor {
public:
    static constexpr uint32_t kMaxTasks = ReadySet::kCapacity;
    static constexpr uint32_t kAppClasses = 4;
    static constexpr uint32_t kMaxTimers = 1024;
    static constexpr uint32_t kMaxPollers = 4;

    explicit Executor(Platform& platform, ExecutorConfig config = {});
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // Detaches `task` into this executor; it starts in a later round. Fails
    // with OutOfMemory for an invalid task, Full when all slots are used.
    template <typename T>
    Result<TaskId> spawn(Task<T>&& task, TaskClass cls = TaskClass::App1) {
        if (!task.valid()) return Error::OutOfMemory;
        return spawn_handle(task.release(), cls);
    }

    // Destroys a suspended task's frames (its awaiters unregister). NotFound
    // if the id is stale, Busy if it is the task running now.
    Result<void> cancel(TaskId id);

    // True while the task has neither finished nor been cancelled.
    bool alive(TaskId id) const;

    // Runs one round (see the header comment). With nothing ready and
    // may_block, blocks until a notification, a timer or deadline_ns.
    // Returns the number of task resumes.
    uint32_t run_once(bool may_block, uint64_t deadline_ns = kForever);

    // Runs rounds without blocking until no task is ready and no timer is due.
    void run_until_idle();

    // Polls every poller (parked ones too), again while they find work, at
    // most `rounds` times; runs no task and fires no timer (what the polls
    // make ready runs in a later round). For an upcall (user/rt/upcall.h):
    // it moves the devices' frames while the app's code runs instead of
    // this executor. Returns what the polls handled.
    uint32_t poll_devices(uint32_t rounds);

    // Runs (blocking when idle) until done() is true: Ok, or TimedOut once
    // the deadline passed first.
    template <typename Pred>
    Result<void> run_until(Pred done, uint64_t deadline_ns = kForever) {
        for (;;) {
            if (done()) return {};
            if (m_platform.now_ns() >= deadline_ns) return Error::TimedOut;
            run_once(true, deadline_ns);
        }
    }

    // For awaiters: the task running now suspends at `h`; the returned Waker
    // makes it ready again. Precondition: called from a running task.
    Waker park(std::coroutine_handle<> h);

    // Wakes every poll task parked in wait_for_notification() and every
    // inline poller parked after its idle rounds.
    void notify_pollers();

    // An inline poller: src.poll(poll_batch) is called at the start of
    // every round, as a poll task's turn would be, but without a coroutine
    // (no resume, park, wake and FIFO hop per turn: the per-packet path
    // runs straight from the round). After idle_poll_rounds empty turns it
    // parks until notify_pollers() (a wake-up from Platform::block() or a
    // timer). Full beyond kMaxPollers. The source must outlive the
    // executor or be removed first.
    Result<void> add_poller(PollSource& src);
    void remove_poller(PollSource& src);

    // Queues a timer; false when the timer heap is full.
    bool add_timer(Timer* t) { return m_timers.insert(t); }
    void remove_timer(Timer* t) { m_timers.remove(t); }

    // The time as of the start of this round (or the end of the last
    // sleep): the clock is read once per round, not by every timer check.
    uint64_t now_ns() const { return m_now; }
    // Reads the clock now (for deadlines an app computes between rounds).
    uint64_t refresh_now() { return m_now = m_platform.now_ns(); }
    const ExecutorConfig& config() const { return m_config; }
    Platform& platform() { return m_platform; }
    bool has_ready() const;
    uint32_t live_tasks() const { return m_live; }
    uint64_t blocks() const { return m_blocks; }

    // The executor running on this core (set while run_once runs, or by
    // install()); awaiters that are not members use it to park.
    static Executor* current();
    static void install(Executor* e);

    // Awaitables.
    struct YieldAwaiter {
        Executor* exec;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) { exec->park(h).wake(); }
        void await_resume() const noexcept {}
    };
    // Lets every other ready task run, then continues.
    YieldAwaiter yield() { return YieldAwaiter{this}; }

    class SleepAwaiter {
    public:
        SleepAwaiter(Executor* e, uint64_t deadline) : m_exec(e) { m_timer.deadline_ns = deadline; }
        SleepAwaiter(const SleepAwaiter&) = delete;
        ~SleepAwaiter() { m_exec->remove_timer(&m_timer); }
        bool await_ready() { return m_exec->now_ns() >= m_timer.deadline_ns; }
        bool await_suspend(std::coroutine_handle<> h);
        // Ok, or Full if the timer heap had no room (the task did not sleep).
        Result<void> await_resume() const { return m_full ? Result<void>(Error::Full) : Result<void>(); }

    private:
        struct Node : Timer {
            Waker waker;
        };
        static void fire(Timer* t) { static_cast<Node*>(t)->waker.wake(); }
        Executor* m_exec;
        Node m_timer;
        bool m_full = false;
    };
    // Suspends until now_ns() >= deadline_ns.
    SleepAwaiter sleep_until(uint64_t deadline_ns) { return SleepAwaiter(this, deadline_ns); }
    // Suspends for at least ns nanoseconds.
    SleepAwaiter sleep_for(uint64_t ns) { return SleepAwaiter(this, now_ns() + ns); }

    struct NotificationAwaiter {
        Executor* exec;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h);
        void await_resume() const noexcept {}
    };
    // For poll tasks with nothing to do: parks until the core returns from
    // Platform::block() (a device notification or a timer).
    NotificationAwaiter wait_for_notification() { return NotificationAwaiter{this}; }

private:
    friend class Waker;
    enum class State : uint8_t { Free, Ready, Running, Parked };
    static constexpr uint16_t kNil = 0xffff;
    static constexpr uint32_t kFifoPoll = 0, kFifoBackground = 1;
    struct Slot {
        std::coroutine_handle<> root;    // the spawned frame (owns the chain)
        std::coroutine_handle<> resume;  // innermost suspended coroutine
        uint32_t seq = 0;                // bumped on every park: stale Wakers miss
        uint32_t gen = 0;                // bumped on every spawn: stale TaskIds miss
        State state = State::Free;
        TaskClass cls = TaskClass::App1;
        uint16_t next = kNil;            // FIFO or free-list link
        bool idle_poller = false;        // parked in wait_for_notification()
    };
    struct Fifo {
        uint16_t head = kNil, tail = kNil;
        uint32_t size = 0;
    };
    struct Poller {
        PollSource* src = nullptr;
        uint32_t idle = 0;    // empty turns in a row
        bool parked = false;  // until notify_pollers()
    };

    Result<TaskId> spawn_handle(std::coroutine_handle<> root, TaskClass cls);
    void make_ready(uint32_t slot);
    void run_slot(uint32_t slot);
    void free_slot(uint32_t slot);
    void fire_timers();
    // Step 1 of a round: every inline poller that is not parked, once;
    // then every poll task that is ready. Steps 2 and 3: app tasks.
    uint32_t run_pollers();
    [[gnu::noinline]] uint32_t run_poll_tasks();
    [[gnu::noinline]] uint32_t run_app_tasks();
    bool any_app_ready() const;
    // One round after the clock was read and due timers fired: poll tasks,
    // app tasks by priority, one background task; blocks when none is ready
    // and may_block.
    uint32_t run_round(bool may_block, uint64_t deadline_ns);
    // Steps 1b-4 of a round, after the inline pollers: poll tasks, app tasks
    // by priority, one background task.
    [[gnu::noinline]] uint32_t run_tasks();  // for run_once()'s fast round
    uint32_t run_tasks_inline();             // in run_round()
    // run_once() off its fast path: another executor is current (made
    // current for the round, then restored), or the round has more to do
    // than poll (timers due, tasks ready, pollers parked: the current
    // executor's round runs here).
    [[gnu::noinline]] uint32_t run_once_slow(bool may_block, uint64_t deadline_ns);
    [[gnu::noinline]] uint32_t run_round_current(bool may_block, uint64_t deadline_ns);
    void fifo_push(Fifo& f, uint32_t slot);
    int32_t fifo_pop(Fifo& f);
    void fifo_remove(Fifo& f, uint32_t slot);
    Fifo& fifo_of(TaskClass c) { return m_fifo[c == TaskClass::Poll ? kFifoPoll : kFifoBackground]; }

    // Order matters for run_once(), the call every wait makes per round:
    // what a round reads sits at small offsets from `this` (one instruction
    // to reach), the ready sets, timer heap and task slots after it.
    Platform& m_platform;
    ExecutorConfig m_config;
    uint64_t m_now = 0;
    uint32_t m_active_pollers = 0;  // inline pollers not parked
    uint32_t m_npollers = 0;
    uint32_t m_ready = 0;  // tasks Ready (in a ready set or FIFO): one compare for "none"
    Poller m_pollers[kMaxPollers];
    Fifo m_fifo[2];
    int32_t m_running = -1;
    uint32_t m_idle_pollers = 0;
    uint32_t m_live = 0;
    uint16_t m_free_head = kNil;
    uint64_t m_blocks = 0;
    TimerHeap<kMaxTimers> m_timers;  // its earliest deadline first: one load per round
    ReadySet m_app[kAppClasses];
    uint32_t m_cursor[kAppClasses] = {};
    Slot m_slots[kMaxTasks];
};

inline void Waker::wake() const {
    if (m_exec == nullptr) return;
    Executor::Slot& s = m_exec->m_slots[m_slot];
    if (s.state == Executor::State::Parked && s.seq == m_seq) m_exec->make_ready(m_slot);
}

}  // namespace ringlet::rt
