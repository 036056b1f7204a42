// SleepHooks (the table inside RingletPlatform): every device is armed
// before a sleep, only the device whose notification bit fired is serviced.
#include "libos/backend/sleep_hooks.h"

#include <gtest/gtest.h>

#include <string>

namespace ringlet::backend {
namespace {

struct Hook final : SleepHook {
    explicit Hook(std::string* log, char name) : log(log), name(name) {}
    bool before_sleep() override {
        *log += std::string("arm ") + name + ";";
        return !busy;
    }
    void after_wake() override { *log += std::string("wake ") + name + ";"; }
    bool woke_for_nothing() override { return idle; }
    std::string* log;
    char name;
    bool busy = false;
    bool idle = false;  // the wake-up was for another core's queue
};

// The Ringlet resources' layout: the network on bit 0, the disk on bit 1.
class NetAndDisk : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(hooks.add(net, 0).ok());
        ASSERT_TRUE(hooks.add(disk, 1).ok());
    }
    std::string log;
    Hook net{&log, 'n'}, disk{&log, 'd'};
    SleepHooks hooks;
};

TEST_F(NetAndDisk, ArmsAllAndDispatchesByBit) {
    EXPECT_EQ(hooks.mask(), 0b11u);
    EXPECT_TRUE(hooks.arm());
    EXPECT_EQ(log, "arm n;arm d;");
    log.clear();
    hooks.dispatch(1ull << 1);
    EXPECT_EQ(log, "wake d;") << "only the disk's bit fired";
    log.clear();
    hooks.dispatch(0b11);
    EXPECT_EQ(log, "wake n;wake d;");
    log.clear();
    hooks.dispatch(1ull << 5);  // a bit nobody registered (a channel)
    hooks.dispatch(0);          // the deadline
    EXPECT_EQ(log, "");
}

// The core may sleep again at once only when every hook that fired says it
// was woken for nothing; a deadline or a bit no hook owns is never that.
TEST_F(NetAndDisk, AWakeUpForNothingOnlyWhenEveryFiredHookSaysSo) {
    EXPECT_FALSE(hooks.dispatch(1ull << 0)) << "the default: the wake-up is work";
    net.idle = true;
    EXPECT_TRUE(hooks.dispatch(1ull << 0));
    EXPECT_FALSE(hooks.dispatch(0b11)) << "the disk's wake-up is work";
    disk.idle = true;
    EXPECT_TRUE(hooks.dispatch(0b11));
    EXPECT_FALSE(hooks.dispatch(0)) << "the deadline";
    EXPECT_FALSE(hooks.dispatch((1ull << 0) | (1ull << 5))) << "a bit nobody registered";
    log.clear();
    net.idle = false;
    EXPECT_FALSE(hooks.dispatch(1ull << 0));
    EXPECT_EQ(log, "wake n;") << "each fired hook is still serviced";
}

TEST_F(NetAndDisk, PendingWorkStopsTheSleep) {
    net.busy = true;
    EXPECT_FALSE(hooks.arm());
    EXPECT_EQ(log, "arm n;") << "no need to arm the rest";
}

TEST(SleepHooks, RefusesBadBitsAndDuplicates) {
    std::string log;
    Hook a(&log, 'a'), b(&log, 'b');
    SleepHooks hooks;
    EXPECT_EQ(hooks.add(a, 64).error(), Error::InvalidArgument);
    ASSERT_TRUE(hooks.add(a, 63).ok());
    EXPECT_EQ(hooks.add(b, 63).error(), Error::Exists) << "one device per bit";
    Hook more[SleepHooks::kMaxHooks] = {Hook(&log, '0'), Hook(&log, '1'), Hook(&log, '2'), Hook(&log, '3'),
                                        Hook(&log, '4'), Hook(&log, '5'), Hook(&log, '6'), Hook(&log, '7')};
    for (uint32_t i = 0; i + 1 < SleepHooks::kMaxHooks; ++i) ASSERT_TRUE(hooks.add(more[i], i).ok());
    EXPECT_EQ(hooks.add(more[7], 40).error(), Error::Full);
    EXPECT_EQ(hooks.mask(), (1ull << 63) | 0x7f);
}

// The sleep cap (RingletPlatform::set_max_sleep_ns): the earlier of the
// asked deadline and now + cap; no deadline means the cap; no cap changes
// nothing.
TEST(SleepDeadline, TheEarlierOfTheDeadlineAndTheCap) {
    constexpr uint64_t kNow = 1000, kCap = 100;
    EXPECT_EQ(sleep_deadline(0, kNow, 0).ticks, 0u);  // no cap, no deadline: sleep until woken
    EXPECT_FALSE(sleep_deadline(0, kNow, 0).capped);
    EXPECT_EQ(sleep_deadline(5000, kNow, 0).ticks, 5000u);
    EXPECT_EQ(sleep_deadline(0, kNow, kCap).ticks, kNow + kCap);  // no deadline: the cap ends it
    EXPECT_TRUE(sleep_deadline(0, kNow, kCap).capped);
    EXPECT_EQ(sleep_deadline(5000, kNow, kCap).ticks, kNow + kCap);  // a later deadline: the cap
    EXPECT_TRUE(sleep_deadline(5000, kNow, kCap).capped);
    EXPECT_EQ(sleep_deadline(1050, kNow, kCap).ticks, 1050u);  // an earlier one stays
    EXPECT_FALSE(sleep_deadline(1050, kNow, kCap).capped);
    EXPECT_FALSE(sleep_deadline(kNow + kCap, kNow, kCap).capped);  // equal: the deadline's own
}

}  // namespace
}  // namespace ringlet::backend
