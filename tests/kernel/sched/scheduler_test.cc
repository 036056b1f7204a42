#include "kernel/sched/scheduler.h"

#include <gtest/gtest.h>

#include <memory>

namespace ringlet {

// The host build has no page tables: a Dispatcher's (empty) AddressSpace
// owns nothing, so releasing it is a no-op here.
void AddressSpace::release() {}

namespace {

struct Pool {
    std::unique_ptr<Dispatcher[]> d{new Dispatcher[4]};
    Dispatcher* operator[](int i) { return &d[i]; }
};

TEST(Scheduler, RunsDispatchersRoundRobin) {
    Pool p;
    Scheduler s;
    EXPECT_EQ(s.pick(), nullptr);
    for (int i = 0; i < 3; ++i) s.enqueue(p[i]);
    EXPECT_TRUE(s.has_waiting());
    EXPECT_EQ(p[0]->state, DispatcherState::Runnable);
    Dispatcher* first = s.pick();
    EXPECT_EQ(first, p[0]);
    s.enqueue(first);  // its slice ended: behind the others
    EXPECT_EQ(s.pick(), p[1]);
    EXPECT_EQ(s.pick(), p[2]);
    EXPECT_EQ(s.pick(), p[0]);
    EXPECT_EQ(s.pick(), nullptr);
    EXPECT_FALSE(s.has_waiting());
}

TEST(Scheduler, ANotificationInTheMaskWakesWithItsBits) {
    Pool p;
    Scheduler s;
    p[0]->wait_mask = 0b0110;
    s.add_blocked(p[0]);
    EXPECT_EQ(p[0]->state, DispatcherState::Blocked);
    p[0]->notifications = 0b1000;  // not awaited: stays asleep, the bit stays pending
    EXPECT_EQ(s.wake_due(100), 0u);
    EXPECT_EQ(s.pick(), nullptr);
    p[0]->notifications |= 0b0100;
    s.wake_due(100);
    EXPECT_EQ(s.pick(), p[0]);
    EXPECT_TRUE(p[0]->has_wake_value);
    EXPECT_EQ(p[0]->wake_value, 0b0100u);
    EXPECT_EQ(p[0]->notifications, 0b1000u);  // only the delivered bits are cleared
}

TEST(Scheduler, DeadlinesWakeWithZeroAndTheEarliestIsReported) {
    Pool p;
    Scheduler s;
    p[0]->wait_mask = 1;
    p[0]->wake_deadline = 500;
    p[1]->wait_mask = 1;
    p[1]->wake_deadline = 300;
    p[2]->wait_mask = 1;  // no deadline: only a notification wakes it
    s.add_blocked(p[0]);
    s.add_blocked(p[1]);
    s.add_blocked(p[2]);
    EXPECT_EQ(s.wake_due(100), 300u);
    EXPECT_EQ(s.wake_due(300), 500u);
    EXPECT_EQ(s.pick(), p[1]);
    EXPECT_EQ(p[1]->wake_value, 0u);
    EXPECT_TRUE(p[1]->has_wake_value);
    EXPECT_EQ(s.wake_due(10000), 0u);
    EXPECT_EQ(s.pick(), p[0]);
    EXPECT_EQ(s.pick(), nullptr);  // p[2] sleeps on
    p[2]->notifications = 1;
    s.wake_due(10000);
    EXPECT_EQ(s.pick(), p[2]);
}

TEST(Scheduler, RemovedBlockedDispatchersAreNeverWoken) {
    Pool p;
    Scheduler s;
    for (int i = 0; i < 3; ++i) {
        p[i]->wait_mask = 1;
        p[i]->notifications = 1;
        s.add_blocked(p[i]);
    }
    s.remove_blocked(p[1]);
    s.remove_blocked(p[3]);  // not there: nothing happens
    s.wake_due(0);
    Dispatcher* a = s.pick();
    Dispatcher* b = s.pick();
    EXPECT_EQ(s.pick(), nullptr);
    EXPECT_TRUE((a == p[0] && b == p[2]) || (a == p[2] && b == p[0]));
}

}  // namespace
}  // namespace ringlet
