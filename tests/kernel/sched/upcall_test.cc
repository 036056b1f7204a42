// When the kernel enters a dispatcher's upcall (kernel/sched/upcall.h).
#include "kernel/sched/upcall.h"

#include <gtest/gtest.h>

namespace ringlet {
namespace {

constexpr uint64_t kPeriod = 100;

UpcallState armed_at(uint64_t now) {
    UpcallState s;
    s.arm(0x1000, 0x8000, 0x2000, kPeriod, now);
    return s;
}

TEST(Upcall, NothingBeforeThePeriodOrWhenNotArmed) {
    UpcallState off;
    UpcallArea idle{0};
    EXPECT_EQ(judge_upcall(off, 1000, &idle), UpcallVerdict::NotDue);
    UpcallState s = armed_at(0);
    EXPECT_EQ(judge_upcall(s, kPeriod - 1, &idle), UpcallVerdict::NotDue);
}

TEST(Upcall, AnAppOutsideTheLibOsForAWholePeriodGetsOne) {
    UpcallState s = armed_at(0);
    UpcallArea area{14};  // even: outside, after 7 calls
    // First look: maybe it just left the libOS.
    EXPECT_EQ(judge_upcall(s, kPeriod, &area), UpcallVerdict::Rearm);
    EXPECT_EQ(s.deadline, 2 * kPeriod);
    EXPECT_EQ(judge_upcall(s, 2 * kPeriod - 1, &area), UpcallVerdict::NotDue);
    // A period later nothing changed: its app's code ran all along.
    EXPECT_EQ(judge_upcall(s, 2 * kPeriod, &area), UpcallVerdict::Deliver);
    upcall_entered(s);
    EXPECT_TRUE(s.running);
    EXPECT_EQ(s.delivered, 1u);
    // None while it runs, however long.
    EXPECT_EQ(judge_upcall(s, 10 * kPeriod, &area), UpcallVerdict::NotDue);
    upcall_returned(s, 10 * kPeriod);
    EXPECT_FALSE(s.running);
    // Still spinning: the next one a period after the return.
    EXPECT_EQ(judge_upcall(s, 11 * kPeriod - 1, &area), UpcallVerdict::NotDue);
    EXPECT_EQ(judge_upcall(s, 11 * kPeriod, &area), UpcallVerdict::Deliver);
}

TEST(Upcall, ALibOsThatRunsOrWasEnteredGetsNone) {
    UpcallState s = armed_at(0);
    UpcallArea area{1};  // odd: in the libOS (polling, or asleep in wait)
    for (uint64_t t = 1; t <= 5; ++t) EXPECT_EQ(judge_upcall(s, t * kPeriod, &area), UpcallVerdict::Rearm);
    area.seq = 2;
    EXPECT_EQ(judge_upcall(s, 6 * kPeriod, &area), UpcallVerdict::Rearm);
    area.seq = 4;  // entered and left again in between: it polls
    EXPECT_EQ(judge_upcall(s, 7 * kPeriod, &area), UpcallVerdict::Rearm);
    area.seq = 5;  // inside at this look
    EXPECT_EQ(judge_upcall(s, 8 * kPeriod, &area), UpcallVerdict::Rearm);
    area.seq = 6;  // out again: a fresh first look
    EXPECT_EQ(judge_upcall(s, 9 * kPeriod, &area), UpcallVerdict::Rearm);
    EXPECT_EQ(judge_upcall(s, 10 * kPeriod, &area), UpcallVerdict::Deliver);
}

TEST(Upcall, AnAreaThatCannotBeReadDisarms) {
    UpcallState s = armed_at(0);
    EXPECT_EQ(judge_upcall(s, kPeriod, nullptr), UpcallVerdict::Rearm);
    EXPECT_FALSE(s.armed());
    UpcallArea idle{0};
    EXPECT_EQ(judge_upcall(s, 5 * kPeriod, &idle), UpcallVerdict::NotDue);
}

TEST(Upcall, DisarmedInsideAnUpcallStaysDisarmedAfterIt) {
    UpcallState s = armed_at(0);
    UpcallArea idle{0};
    (void)judge_upcall(s, kPeriod, &idle);
    ASSERT_EQ(judge_upcall(s, 2 * kPeriod, &idle), UpcallVerdict::Deliver);
    upcall_entered(s);
    s.disarm();
    upcall_returned(s, 3 * kPeriod);
    EXPECT_EQ(s.deadline, UpcallState::kNoLook);
    EXPECT_EQ(judge_upcall(s, 10 * kPeriod, &idle), UpcallVerdict::NotDue);
}

}  // namespace
}  // namespace ringlet
