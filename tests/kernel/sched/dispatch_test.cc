// The return-to-user decision of kernel/sched/dispatch.h: when the running
// dispatcher goes on, and that the timer is written only when it changes.
// (The rest of dispatch.cc runs on the target only; its two out-of-line
// helpers are recorded here instead.)
#include "kernel/sched/dispatch.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ringlet {

void AddressSpace::release() {}  // no page tables on the host

namespace {
std::vector<uint64_t> g_timer_writes;
int g_among_others = 0;
}  // namespace

void write_timer(HartLocal& local, uint64_t at) {
    local.timer_armed = at;
    g_timer_writes.push_back(at);
}

bool keeps_current_among_others(HartLocal&) {
    ++g_among_others;
    return true;
}

namespace {

class DispatchTest : public ::testing::Test {
protected:
    void SetUp() override {
        g_timer_writes.clear();
        g_among_others = 0;
        m_local = std::make_unique<HartLocal>();
        m_pool.reset(new Dispatcher[3]);
        m_local->sched.enqueue(&m_pool[0]);
        m_local->sched.set_current(m_local->sched.pick());
    }
    std::unique_ptr<HartLocal> m_local;
    std::unique_ptr<Dispatcher[]> m_pool;
};

TEST_F(DispatchTest, AnAppAloneGoesOnAndTheTimerIsTurnedOffOnce) {
    m_local->sched.set_slice_end(123);
    EXPECT_TRUE(return_to_user_keeps_current(*m_local));
    EXPECT_EQ(m_local->sched.slice_end(), 0u);  // no slice while alone
    EXPECT_TRUE(return_to_user_keeps_current(*m_local));
    EXPECT_TRUE(return_to_user_keeps_current(*m_local));
    ASSERT_EQ(g_timer_writes.size(), 1u);  // the later returns change nothing: no write
    EXPECT_EQ(g_timer_writes[0], HartLocal::kTimerOff);
    EXPECT_EQ(g_among_others, 0);
}

TEST_F(DispatchTest, TheTimerIsWrittenOnlyWhenItsTimeChanges) {
    arm_timer(*m_local, 500);
    arm_timer(*m_local, 500);
    arm_timer(*m_local, 600);
    EXPECT_EQ(g_timer_writes, (std::vector<uint64_t>{500, 600}));
    // It fired: on_timer_interrupt turned it off and said so, so arming the
    // same time again must write it again.
    m_local->timer_armed = HartLocal::kTimerOff;
    arm_timer(*m_local, 600);
    EXPECT_EQ(g_timer_writes, (std::vector<uint64_t>{500, 600, 600}));
    // Unknown (0, set up behind the scheduler's back): the next arm writes.
    m_local->timer_armed = 0;
    EXPECT_TRUE(return_to_user_keeps_current(*m_local));
    EXPECT_EQ(g_timer_writes.back(), HartLocal::kTimerOff);
    EXPECT_EQ(g_timer_writes.size(), 4u);
}

TEST_F(DispatchTest, OthersOnTheHartTakeTheFullCheck) {
    m_local->sched.enqueue(&m_pool[1]);  // another runnable app
    EXPECT_TRUE(return_to_user_keeps_current(*m_local));
    EXPECT_EQ(g_among_others, 1);
    Scheduler& s = m_local->sched;
    s.pick();
    s.add_blocked(&m_pool[2]);  // a blocked one that may be due
    EXPECT_TRUE(return_to_user_keeps_current(*m_local));
    EXPECT_EQ(g_among_others, 2);
    EXPECT_TRUE(g_timer_writes.empty());
}

TEST_F(DispatchTest, ABlockedOrEndedOrMissingAppDoesNotGoOn) {
    m_pool[0].state = DispatcherState::Blocked;
    EXPECT_FALSE(return_to_user_keeps_current(*m_local));
    m_pool[0].state = DispatcherState::Dead;
    EXPECT_FALSE(return_to_user_keeps_current(*m_local));
    m_local->sched.set_current(nullptr);
    EXPECT_FALSE(return_to_user_keeps_current(*m_local));
    EXPECT_TRUE(g_timer_writes.empty());
    EXPECT_EQ(g_among_others, 0);
}

}  // namespace
}  // namespace ringlet
