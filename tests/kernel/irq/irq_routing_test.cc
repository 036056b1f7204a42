// Which interrupts a wait acknowledges (kernel/irq/irq_routing.h).
#include "kernel/irq/irq_routing.h"

#include <gtest/gtest.h>

namespace ringlet {
namespace {

constexpr uint64_t kNet = 1ull << 0;
constexpr uint64_t kBlk = 1ull << 1;
constexpr uint64_t kTimerOnly = 0;

TEST(IrqRoutingTest, AWaitForTheBitAcksTheInterruptItDelivered) {
    // The net line was claimed, its bit handed to the app by the last wait:
    // waiting for it again means the device was serviced.
    EXPECT_EQ(irq_bits_to_complete(kNet, kNet | kBlk, 0), kNet);
}

TEST(IrqRoutingTest, AnUndeliveredNotificationIsNotAcked) {
    // Claimed but its bit still pending: the app has not seen it yet (this
    // wait returns it at once), so its device cannot have been serviced.
    EXPECT_EQ(irq_bits_to_complete(kNet, kNet, kNet), 0u);
    EXPECT_EQ(irq_bits_to_complete(kNet | kBlk, kNet | kBlk, kNet), kBlk);
}

TEST(IrqRoutingTest, AWaitThatDoesNotAskForTheBitLeavesTheLineMasked) {
    EXPECT_EQ(irq_bits_to_complete(kNet, kTimerOnly, 0), 0u);
    EXPECT_EQ(irq_bits_to_complete(kNet | kBlk, kBlk, 0), kBlk);
}

TEST(IrqRoutingTest, NothingInServiceNothingToAck) {
    EXPECT_EQ(irq_bits_to_complete(0, ~0ull, 0), 0u);
    static_assert(irq_bits_to_complete(0, ~0ull, 0) == 0);
}

}  // namespace
}  // namespace ringlet
