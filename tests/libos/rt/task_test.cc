#include "libos/rt/task.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libos/rt/executor.h"
#include "tests/libos/rt/test_platform.h"

namespace ringlet::rt {
namespace {

using test::FakePlatform;
using test::PoolFixture;

Task<Result<int>> add(int a, int b) { co_return a + b; }

Task<Result<int>> nested(int depth) {
    if (depth == 0) co_return 1;
    // Not CO_TRY(co_await ...): GCC 12 ICEs on co_await inside a statement
    // expression, so await first and test the Result separately.
    auto below = co_await nested(depth - 1);
    if (!below) co_return below.error();
    co_return *below + 1;
}

Task<Result<int>> fails() { co_return Error::NotFound; }

Task<Result<int>> propagates() {
    auto r = co_await fails();
    const int v = CO_TRY(r);
    co_return v + 1;  // not reached
}

// A destructor-counting local: proves frames are torn down exactly once.
struct Tracker {
    explicit Tracker(int* c) : count(c) {}
    ~Tracker() { ++*count; }
    int* count;
};

TEST(Task, IsLazyUntilAwaited) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    bool started = false;
    auto body = [&]() -> Task<void> {
        started = true;
        co_return;
    };
    {
        Task<void> t = body();
        EXPECT_TRUE(t.valid());
        EXPECT_FALSE(started);
        EXPECT_EQ(pf.pool().live(), 1u);
    }  // dropping an unstarted task frees its frame
    EXPECT_FALSE(started);
    EXPECT_EQ(pf.pool().live(), 0u);
}

TEST(Task, AwaitChainReturnsValues) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    int result = 0;
    auto root = [&]() -> Task<void> {
        auto a = co_await add(2, 3);
        auto b = co_await nested(100);  // symmetric transfer: no stack growth per level
        result = (a.ok() ? *a : -100) + (b.ok() ? *b : -1000);
    };
    ASSERT_TRUE(ex.spawn(root()).ok());
    ex.run_until_idle();
    EXPECT_EQ(result, 5 + 101);
    EXPECT_EQ(pf.pool().live(), 0u);
}

// DeepChainDoesNotOverflowTheStack lives in task_tail_call_test.cc: it needs
// an optimised build without ASan (see tests/libos/rt/CMakeLists.txt).

TEST(Task, CoTryPropagatesErrors) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    Error err = Error::Ok;
    auto root = [&]() -> Task<void> {
        auto r = co_await propagates();
        err = r.error();
    };
    ASSERT_TRUE(ex.spawn(root()).ok());
    ex.run_until_idle();
    EXPECT_EQ(err, Error::NotFound);
}

TEST(Task, AllocationFailureIsAnErrorNotACrash) {
    FramePool::install(nullptr);  // no pool: every frame allocation fails
    Task<Result<int>> t = add(1, 2);
    EXPECT_FALSE(t.valid());
    FakePlatform plat;
    Executor ex(plat);
    EXPECT_EQ(ex.spawn(std::move(t)).error(), Error::OutOfMemory);

    // Awaiting an invalid task yields OutOfMemory in the awaiting coroutine.
    PoolFixture pf;
    Error err = Error::Ok;
    auto root = [&]() -> Task<void> {
        Task<Result<int>> child;  // invalid, as after an allocation failure
        auto r = co_await std::move(child);
        err = r.error();
    };
    ASSERT_TRUE(ex.spawn(root()).ok());
    ex.run_until_idle();
    EXPECT_EQ(err, Error::OutOfMemory);
}

TEST(Task, PoolExhaustionMidChainReportsOutOfMemory) {
    PoolFixture pf(64 * 1024);
    FakePlatform plat;
    Executor ex(plat);
    Error err = Error::Ok;
    auto root = [&]() -> Task<void> {
        auto r = co_await nested(100000);  // far more frames than 64 KiB holds
        err = r.error();
    };
    ASSERT_TRUE(ex.spawn(root()).ok());
    ex.run_until_idle();
    EXPECT_EQ(err, Error::OutOfMemory);
    EXPECT_EQ(pf.pool().live(), 0u);
}

TEST(Task, MoveTransfersOwnership) {
    PoolFixture pf;
    Task<Result<int>> a = add(1, 1);
    Task<Result<int>> b = std::move(a);
    EXPECT_FALSE(a.valid());
    EXPECT_TRUE(b.valid());
    Task<Result<int>> c = add(2, 2);
    c = std::move(b);  // the old frame of c is destroyed
    EXPECT_EQ(pf.pool().live(), 1u);
}

TEST(Task, CancelDestroysWholeSuspendedChain) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    int destroyed = 0;
    bool finished = false;
    auto leaf = [&]() -> Task<Result<int>> {
        Tracker t(&destroyed);
        auto r = co_await ex.sleep_for(1'000'000'000);
        (void)r;
        co_return 7;
    };
    auto middle = [&]() -> Task<Result<int>> {
        Tracker t(&destroyed);
        co_return co_await leaf();
    };
    auto root = [&]() -> Task<void> {
        Tracker t(&destroyed);
        (void)co_await middle();
        finished = true;
    };
    auto id = ex.spawn(root());
    ASSERT_TRUE(id.ok());
    ex.run_once(false);  // runs down to the sleep
    EXPECT_EQ(pf.pool().live(), 3u);
    EXPECT_TRUE(ex.alive(*id));
    ASSERT_TRUE(ex.cancel(*id).ok());
    EXPECT_EQ(destroyed, 3);
    EXPECT_FALSE(finished);
    EXPECT_FALSE(ex.alive(*id));
    EXPECT_EQ(pf.pool().live(), 0u);
    EXPECT_EQ(ex.cancel(*id).error(), Error::NotFound);  // stale id
    // The timer was unregistered: running past its deadline touches no freed frame.
    plat.m_now += 2'000'000'000;
    ex.run_until_idle();
    EXPECT_EQ(ex.live_tasks(), 0u);
}

TEST(Task, ExecutorTeardownCancelsLiveTasks) {
    PoolFixture pf;
    int destroyed = 0;
    {
        FakePlatform plat;
        Executor ex(plat);
        for (int i = 0; i < 10; ++i) {
            auto body = [](Executor& e, int* d) -> Task<void> {
                Tracker t(d);
                (void)co_await e.sleep_for(1'000'000);
            };
            ASSERT_TRUE(ex.spawn(body(ex, &destroyed)).ok());
        }
        ex.run_once(false);
    }
    EXPECT_EQ(destroyed, 10);
    EXPECT_EQ(pf.pool().live(), 0u);
}

}  // namespace
}  // namespace ringlet::rt
