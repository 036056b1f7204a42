#include "libos/rt/notifier.h"

#include <gtest/gtest.h>

#include "tests/libos/rt/test_platform.h"

namespace ringlet::rt {
namespace {

using test::FakePlatform;
using test::PoolFixture;

Task<void> wait_then_count(Notifier* n, int* count) {
    co_await n->wait();
    ++*count;
}

TEST(Notifier, NotifyAllWakesEveryWaiterLater) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    Notifier n;
    int woken = 0;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ex.spawn(wait_then_count(&n, &woken)).ok());
    ex.run_until_idle();
    EXPECT_TRUE(n.has_waiters());
    EXPECT_EQ(woken, 0);
    n.notify_all();
    EXPECT_EQ(woken, 0) << "no inline resume";
    EXPECT_FALSE(n.has_waiters());
    ex.run_until_idle();
    EXPECT_EQ(woken, 5);
}

TEST(Notifier, NotifyWithoutWaitersIsNotRemembered) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    Notifier n;
    int woken = 0;
    n.notify_all();  // an edge nobody waits for is lost by design
    ASSERT_TRUE(ex.spawn(wait_then_count(&n, &woken)).ok());
    ex.run_until_idle();
    EXPECT_EQ(woken, 0);
    n.notify_all();
    ex.run_until_idle();
    EXPECT_EQ(woken, 1);
}

TEST(Notifier, CancelledWaiterUnlinksItself) {
    PoolFixture pf;
    FakePlatform plat;
    Executor ex(plat);
    Notifier n;
    int woken = 0;
    auto a = ex.spawn(wait_then_count(&n, &woken));
    auto b = ex.spawn(wait_then_count(&n, &woken));
    auto c = ex.spawn(wait_then_count(&n, &woken));
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    ex.run_until_idle();
    ASSERT_TRUE(ex.cancel(*b).ok());  // middle of the list
    ASSERT_TRUE(ex.cancel(*c).ok());  // head of the list
    n.notify_all();                    // must not touch the freed awaiters (ASan)
    ex.run_until_idle();
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(pf.pool().live(), 0u);
}

}  // namespace
}  // namespace ringlet::rt
