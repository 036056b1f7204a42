// Which harts a TLB shootdown interrupts (kernel/smp/mailbox.h
// remote_shootdown_targets): only those where the address space is live,
// never the sender itself, never a hart the machine lacks.
#include "kernel/smp/mailbox.h"

#include <gtest/gtest.h>

namespace ringlet {
namespace {

TEST(ShootdownTargets, OnlyTheLiveHartsButTheSender) {
    EXPECT_EQ(remote_shootdown_targets(0b0001, 0, 4), 0u);       // an app alone on the sender's hart
    EXPECT_EQ(remote_shootdown_targets(0b0011, 0, 4), 0b0010u);  // spanning harts 0 and 1
    EXPECT_EQ(remote_shootdown_targets(0b1010, 0, 4), 0b1010u);  // live elsewhere only
    EXPECT_EQ(remote_shootdown_targets(0b1111, 2, 4), 0b1011u);
    EXPECT_EQ(remote_shootdown_targets(0, 1, 4), 0u);            // a space nobody runs
}

TEST(ShootdownTargets, NeverAHartTheMachineLacks) {
    EXPECT_EQ(remote_shootdown_targets(~0ull, 0, 2), 0b10u);
    EXPECT_EQ(remote_shootdown_targets(~0ull, 63, 64), ~0ull >> 1);
    EXPECT_EQ(remote_shootdown_targets(1ull << 5, 0, 4), 0u);
}

}  // namespace
}  // namespace ringlet
