// Which core may close when (libos/backend/close_order.h): core 0 last,
// a core with its own queue pair never, and core 0's close racing another
// core's start never lets both through.
#include "libos/backend/close_order.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ringlet::backend {
namespace {

TEST(CloseOrder, CoreZeroClosesOnlyAfterEveryOtherCore) {
    CloseOrder order;
    ASSERT_TRUE(order.start(0).ok());
    ASSERT_TRUE(order.start(1).ok());
    ASSERT_TRUE(order.start(3).ok());
    EXPECT_EQ(order.close(0, true).error(), Error::Busy);
    EXPECT_TRUE(order.up(0));  // refused: nothing changed
    ASSERT_TRUE(order.close(1, false).ok());
    EXPECT_EQ(order.close(0, true).error(), Error::Busy);  // core 1 is still closing
    order.stopped(1);
    EXPECT_EQ(order.close(0, true).error(), Error::Busy);  // core 3 is still up
    ASSERT_TRUE(order.close(3, false).ok());
    order.stopped(3);
    ASSERT_TRUE(order.close(0, true).ok());
    EXPECT_FALSE(order.up(0));
}

TEST(CloseOrder, AForwardingCoreClosesAndComesBack) {
    CloseOrder order;
    ASSERT_TRUE(order.start(0).ok());
    for (int round = 0; round < 3; ++round) {
        ASSERT_TRUE(order.start(2).ok());
        EXPECT_TRUE(order.up(2));
        ASSERT_TRUE(order.close(2, false).ok());
        order.stopped(2);
        EXPECT_FALSE(order.up(2));
    }
    EXPECT_TRUE(order.close(0, true).ok());
}

TEST(CloseOrder, NothingStartsAfterCoreZeroClosedWithADevice) {
    CloseOrder order;
    ASSERT_TRUE(order.start(0).ok());
    ASSERT_TRUE(order.close(0, true).ok());
    EXPECT_EQ(order.start(0).error(), Error::Busy);
    EXPECT_EQ(order.start(1).error(), Error::Busy);
    EXPECT_FALSE(order.up(1));
}

TEST(CloseOrder, WithoutADeviceCoreZeroMayComeBack) {
    CloseOrder order;
    ASSERT_TRUE(order.start(0).ok());
    ASSERT_TRUE(order.close(0, false).ok());
    ASSERT_TRUE(order.start(0).ok());
    ASSERT_TRUE(order.start(1).ok());
}

TEST(CloseOrder, ACoreWithItsOwnQueuePairNeverCloses) {
    CloseOrder order;
    ASSERT_TRUE(order.start(0).ok());
    ASSERT_TRUE(order.start(1).ok());
    order.pin(1);
    EXPECT_EQ(order.close(1, false).error(), Error::Busy);
    EXPECT_TRUE(order.up(1));
    EXPECT_EQ(order.close(0, true).error(), Error::Busy);
}

TEST(CloseOrder, ACoreBeyondTheTableIsRefused) {
    CloseOrder order;
    EXPECT_EQ(order.start(CloseOrder::kMaxCores).error(), Error::InvalidArgument);
    EXPECT_EQ(order.close(CloseOrder::kMaxCores, false).error(), Error::InvalidArgument);
}

TEST(CloseOrder, AnAbandonedStartDoesNotHoldCoreZero) {
    CloseOrder order;
    ASSERT_TRUE(order.start(0).ok());
    ASSERT_TRUE(order.start(1).ok());
    order.stopped(1);
    EXPECT_TRUE(order.close(0, true).ok());
}

// Core 0 closes while core 1 starts, many times over: either core 0 was
// refused and core 1 is up, or core 0 closed and core 1 was refused —
// never both through, never both refused.
TEST(CloseOrder, CoreZerosCloseRacingAnotherCoresStartLetsExactlyOneThrough) {
    for (int i = 0; i < 2000; ++i) {
        CloseOrder order;
        ASSERT_TRUE(order.start(0).ok());
        std::atomic<int> go{0};
        bool closed = false, started = false;
        std::thread owner([&] {
            while (go.load() == 0) {
            }
            closed = order.close(0, true).ok();
        });
        std::thread other([&] {
            while (go.load() == 0) {
            }
            started = order.start(1).ok();
        });
        go.store(1);
        owner.join();
        other.join();
        ASSERT_NE(closed, started) << "iteration " << i;
        EXPECT_EQ(order.up(1), started);
    }
}

}  // namespace
}  // namespace ringlet::backend
