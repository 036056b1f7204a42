// Symmetric transfer must not grow the stack per awaited level: a 20,000-deep
// chain of Tasks completes on an ordinary 8 MiB thread stack. GCC turns the
// resume into a tail call only when optimising without ASan, so this file is
// its own executable, built -O2 without sanitizers (CMakeLists.txt).
#include <gtest/gtest.h>

#include "libos/rt/executor.h"
#include "libos/rt/task.h"
#include "tests/libos/rt/test_platform.h"

namespace ringlet::rt {
namespace {

using test::FakePlatform;
using test::PoolFixture;

Task<Result<int>> nested(int depth) {
    if (depth == 0) co_return 1;
    auto below = co_await nested(depth - 1);
    if (!below.ok()) co_return below.error();
    co_return *below + 1;
}

TEST(TaskTailCall, DeepChainDoesNotOverflowTheStack) {
    PoolFixture pf(64 << 20);
    FakePlatform plat;
    Executor ex(plat);
    int result = 0;
    auto root = [&]() -> Task<void> {
        auto r = co_await nested(20000);
        result = r.ok() ? *r : -1;
    };
    ASSERT_TRUE(ex.spawn(root()).ok());
    ex.run_until_idle();
    EXPECT_EQ(result, 20001);
}

}  // namespace
}  // namespace ringlet::rt
