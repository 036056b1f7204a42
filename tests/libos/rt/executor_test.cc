#include "libos/rt/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "libos/rt/poll_loop.h"
#include "tests/libos/rt/test_platform.h"

namespace ringlet::rt {
namespace {

using test::FakePlatform;
using test::PoolFixture;

struct ExecutorTest : ::testing::Test {
    PoolFixture pf;
    FakePlatform plat;
    std::unique_ptr<Executor> ex = std::make_unique<Executor>(plat);
    std::vector<std::string> log;
};

Task<void> record(std::vector<std::string>* log, std::string name) {
    log->push_back(name);
    co_return;
}

Task<void> yielder(Executor* ex, std::vector<std::string>* log, std::string name, int times) {
    for (int i = 0; i < times; ++i) {
        log->push_back(name);
        co_await ex->yield();
    }
}

TEST_F(ExecutorTest, SpawnDoesNotRunInline) {
    ASSERT_TRUE(ex->spawn(record(&log, "a")).ok());
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(ex->live_tasks(), 1u);
    ex->run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"a"}));
    EXPECT_EQ(ex->live_tasks(), 0u);
}

TEST_F(ExecutorTest, HigherPriorityClassRunsFirst) {
    ASSERT_TRUE(ex->spawn(record(&log, "low"), TaskClass::App3).ok());
    ASSERT_TRUE(ex->spawn(record(&log, "mid"), TaskClass::App1).ok());
    ASSERT_TRUE(ex->spawn(record(&log, "high"), TaskClass::App0).ok());
    ASSERT_TRUE(ex->spawn(record(&log, "bg"), TaskClass::Background).ok());
    ASSERT_TRUE(ex->spawn(record(&log, "poll"), TaskClass::Poll).ok());
    ex->run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"poll", "high", "mid", "low", "bg"}));
}

TEST_F(ExecutorTest, BackgroundIsFifoOnePerRound) {
    for (const char* n : {"b1", "b2", "b3"}) ASSERT_TRUE(ex->spawn(record(&log, n), TaskClass::Background).ok());
    ex->run_once(false);
    EXPECT_EQ(log, (std::vector<std::string>{"b1"}));
    ex->run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"b1", "b2", "b3"}));
}

TEST_F(ExecutorTest, YieldRoundRobinsInsideAClass) {
    ASSERT_TRUE(ex->spawn(yielder(ex.get(), &log, "a", 3)).ok());
    ASSERT_TRUE(ex->spawn(yielder(ex.get(), &log, "b", 3)).ok());
    ASSERT_TRUE(ex->spawn(yielder(ex.get(), &log, "c", 3)).ok());
    ex->run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c", "a", "b", "c", "a", "b", "c"}));
}

TEST_F(ExecutorTest, PollTasksAreFifo) {
    ASSERT_TRUE(ex->spawn(yielder(ex.get(), &log, "p", 2), TaskClass::Poll).ok());
    ASSERT_TRUE(ex->spawn(yielder(ex.get(), &log, "q", 2), TaskClass::Poll).ok());
    ex->run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"p", "q", "p", "q"}));
}

TEST_F(ExecutorTest, BusyHighClassDoesNotStarveLowerOnes) {
    // A high-priority task that always yields would own the core under strict
    // priority; aging gives every ready class one turn per round.
    ASSERT_TRUE(ex->spawn(yielder(ex.get(), &log, "H", 1000), TaskClass::App0).ok());
    ASSERT_TRUE(ex->spawn(record(&log, "L"), TaskClass::App3).ok());
    ASSERT_TRUE(ex->spawn(record(&log, "B"), TaskClass::Background).ok());
    ex->run_once(false);
    const auto count = [&](const std::string& n) { return std::count(log.begin(), log.end(), n); };
    EXPECT_EQ(count("H"), static_cast<long>(ex->config().app_budget));
    EXPECT_EQ(count("L"), 1);
    EXPECT_EQ(count("B"), 1);
    EXPECT_EQ(log.back(), "B");
}

TEST_F(ExecutorTest, FairnessAmongEqualsUnderBudget) {
    std::vector<int> runs(100, 0);
    auto worker = [](Executor* e, int* n) -> Task<void> {
        for (;;) {
            ++*n;
            co_await e->yield();
        }
    };
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(ex->spawn(worker(ex.get(), &runs[i])).ok());
    for (int r = 0; r < 50; ++r) ex->run_once(false);  // 50 rounds x 64 = 3200 resumes
    const auto [lo, hi] = std::minmax_element(runs.begin(), runs.end());
    EXPECT_GT(*lo, 0);
    EXPECT_LE(*hi - *lo, 1) << "round-robin keeps counts within one";
    ex.reset();  // cancels the endless workers
    EXPECT_EQ(pf.pool().live(), 0u);
}

TEST_F(ExecutorTest, WakeOnlySetsABit) {
    Waker w;
    bool after = false;
    auto waiter = [](Executor* e, Waker* out, bool* flag) -> Task<void> {
        struct Park {
            Executor* e;
            Waker* out;
            bool await_ready() { return false; }
            void await_suspend(std::coroutine_handle<> h) { *out = e->park(h); }
            void await_resume() {}
        };
        co_await Park{e, out};
        *flag = true;
    };
    ASSERT_TRUE(ex->spawn(waiter(ex.get(), &w, &after)).ok());
    ex->run_until_idle();
    ASSERT_TRUE(w.valid());
    EXPECT_FALSE(ex->has_ready());
    w.wake();
    EXPECT_FALSE(after) << "wake must not resume inline";
    EXPECT_TRUE(ex->has_ready());
    w.wake();  // a second wake of the same park is a no-op
    ex->run_until_idle();
    EXPECT_TRUE(after);
    w.wake();  // stale: the task is gone
    EXPECT_FALSE(ex->has_ready());
}

TEST_F(ExecutorTest, BlocksUntilEarliestTimerWhenIdle) {
    auto sleeper = [](Executor* e, std::vector<std::string>* l) -> Task<void> {
        auto r = co_await e->sleep_until(5000);
        l->push_back(r.ok() ? "woke" : "err");
    };
    ASSERT_TRUE(ex->spawn(sleeper(ex.get(), &log)).ok());
    ex->run_once(true);  // runs the task to its sleep
    EXPECT_TRUE(log.empty());
    ex->run_once(true);  // nothing ready: blocks until the timer
    EXPECT_EQ(plat.m_blocks, 1u);
    EXPECT_EQ(plat.m_last_deadline, 5000u);
    ex->run_once(true);
    EXPECT_EQ(log, (std::vector<std::string>{"woke"}));
}

TEST_F(ExecutorTest, RunUntilTimesOut) {
    bool never = false;
    auto r = ex->run_until([&] { return never; }, 3000);
    EXPECT_EQ(r.error(), Error::TimedOut);
    EXPECT_GE(plat.m_now, 3000u);
    EXPECT_GE(plat.m_blocks, 1u);
}

TEST_F(ExecutorTest, TimersFireInDeadlineOrder) {
    auto sleeper = [](Executor* e, std::vector<std::string>* l, uint64_t at, std::string n) -> Task<void> {
        (void)co_await e->sleep_until(at);
        l->push_back(n);
    };
    ASSERT_TRUE(ex->spawn(sleeper(ex.get(), &log, 9000, "c")).ok());
    ASSERT_TRUE(ex->spawn(sleeper(ex.get(), &log, 2000, "a")).ok());
    ASSERT_TRUE(ex->spawn(sleeper(ex.get(), &log, 4000, "b")).ok());
    ASSERT_TRUE(ex->run_until([&] { return log.size() == 3; }).ok());
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(plat.m_now, 9000u);
}

TEST_F(ExecutorTest, PastDeadlineSleepDoesNotSuspend) {
    auto sleeper = [](Executor* e, std::vector<std::string>* l) -> Task<void> {
        (void)co_await e->sleep_until(0);
        l->push_back("now");
    };
    ASSERT_TRUE(ex->spawn(sleeper(ex.get(), &log)).ok());
    ex->run_once(false);
    EXPECT_EQ(log.size(), 1u);
}

TEST_F(ExecutorTest, SlotsRunOutThenRecycle) {
    auto parked = [](Executor* e) -> Task<void> { (void)co_await e->sleep_for(1'000'000); };
    std::vector<TaskId> ids;
    for (uint32_t i = 0; i < Executor::kMaxTasks; ++i) {
        auto id = ex->spawn(parked(ex.get()));
        ASSERT_TRUE(id.ok());
        ids.push_back(*id);
    }
    EXPECT_EQ(ex->spawn(parked(ex.get())).error(), Error::Full);
    EXPECT_EQ(pf.pool().live(), Executor::kMaxTasks);  // the refused frame was freed
    ASSERT_TRUE(ex->cancel(ids[17]).ok());
    auto again = ex->spawn(parked(ex.get()));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->slot, ids[17].slot);
    EXPECT_NE(again->gen, ids[17].gen);
    EXPECT_FALSE(ex->alive(ids[17]));
    EXPECT_EQ(ex->cancel(ids[17]).error(), Error::NotFound);
}

TEST_F(ExecutorTest, CancelFromInsideTheTaskIsBusy) {
    Result<void> self_cancel = {};
    TaskId me;
    auto body = [](Executor* e, TaskId* id, Result<void>* out) -> Task<void> {
        *out = e->cancel(*id);
        co_return;
    };
    auto id = ex->spawn(body(ex.get(), &me, &self_cancel));
    ASSERT_TRUE(id.ok());
    me = *id;
    ex->run_until_idle();
    EXPECT_EQ(self_cancel.error(), Error::Busy);
}

TEST_F(ExecutorTest, CancelReadyTaskRemovesItFromTheQueue) {
    auto a = ex->spawn(record(&log, "a"), TaskClass::Background);
    auto b = ex->spawn(record(&log, "b"), TaskClass::Background);
    auto c = ex->spawn(record(&log, "c"), TaskClass::App2);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    ASSERT_TRUE(ex->cancel(*a).ok());
    ASSERT_TRUE(ex->cancel(*c).ok());
    ex->run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"b"}));
}

// A source with `work` items, one handled per turn.
struct CountingSource : PollSource {
    uint32_t turns = 0;
    uint32_t work = 0;
    uint32_t poll(uint32_t max) override {
        EXPECT_GT(max, 0u);
        ++turns;
        if (work == 0) return 0;
        --work;
        return 1;
    }
};

TEST_F(ExecutorTest, InlinePollerRunsEachRoundAndParksWhenIdle) {
    CountingSource src;
    src.work = 2;
    ASSERT_TRUE(ex->add_poller(src).ok());
    EXPECT_TRUE(ex->has_ready());
    ex->run_once(false);
    ex->run_once(false);
    EXPECT_EQ(src.turns, 2u);
    ex->run_once(false);  // an empty turn: parks (idle_poll_rounds = 1)
    EXPECT_EQ(src.turns, 3u);
    EXPECT_FALSE(ex->has_ready());
    ex->run_once(false);
    EXPECT_EQ(src.turns, 3u) << "parked: not polled";
    ex->run_once(true, 100);  // nothing ready: the core blocks; the wake-up re-arms the poller
    EXPECT_EQ(plat.m_blocks, 1u);
    EXPECT_TRUE(ex->has_ready());
    ex->run_once(false);
    EXPECT_EQ(src.turns, 4u);
    EXPECT_FALSE(ex->has_ready()) << "that turn was empty: parked again";
    ex->notify_pollers();  // as a timer does
    EXPECT_TRUE(ex->has_ready());
    ex->remove_poller(src);
    EXPECT_FALSE(ex->has_ready());
    ex->run_once(false);
    EXPECT_EQ(src.turns, 4u) << "removed";
}

TEST_F(ExecutorTest, InlinePollersRunBeforeAppTasksAndAreBounded) {
    CountingSource a, b;
    a.work = b.work = 100;
    ASSERT_TRUE(ex->add_poller(a).ok());
    ASSERT_TRUE(ex->add_poller(b).ok());
    std::vector<CountingSource> more(Executor::kMaxPollers - 2);
    for (CountingSource& m : more) ASSERT_TRUE(ex->add_poller(m).ok());
    CountingSource extra;
    EXPECT_EQ(ex->add_poller(extra).error(), Error::Full);
    bool seen_turns = false;
    auto app = [](CountingSource* s, bool* seen) -> Task<void> {
        *seen = s->turns == 1;
        co_return;
    };
    ASSERT_TRUE(ex->spawn(app(&a, &seen_turns)).ok());
    ex->run_once(false);
    EXPECT_TRUE(seen_turns) << "the round polled before it ran the app task";
    EXPECT_EQ(b.turns, 1u);
    for (CountingSource& m : more) ex->remove_poller(m);
    ex->remove_poller(a);
    ex->remove_poller(b);
}

TEST_F(ExecutorTest, PollDevicesPollsParkedPollersRunsNoTaskAndStopsWhenIdle) {
    CountingSource src;
    ASSERT_TRUE(ex->add_poller(src).ok());
    ex->run_once(false);  // nothing to do: parks
    ASSERT_FALSE(ex->has_ready());
    bool ran = false;
    auto app = [](bool* r) -> Task<void> {
        *r = true;
        co_return;
    };
    ASSERT_TRUE(ex->spawn(app(&ran)).ok());
    src.work = 3;
    // Parked or not, each round polls; it goes on while the polls find work.
    EXPECT_EQ(ex->poll_devices(8), 3u);
    EXPECT_EQ(src.turns, 1u + 4u) << "three rounds with work, one that found none";
    EXPECT_FALSE(ran) << "an upcall's poll runs no task";
    src.work = 10;
    EXPECT_EQ(ex->poll_devices(2), 2u) << "bounded by its rounds";
    ex->run_until_idle();
    EXPECT_TRUE(ran);
    ex->remove_poller(src);
}

}  // namespace
}  // namespace ringlet::rt
