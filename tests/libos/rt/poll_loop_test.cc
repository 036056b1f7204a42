#include "libos/rt/poll_loop.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/libos/rt/test_platform.h"

namespace ringlet::rt {
namespace {

using test::FakePlatform;
using test::PoolFixture;

// A fake device queue with `pending` items; records the size of each batch.
struct FakeSource final : PollSource {
    uint32_t poll(uint32_t max) override {
        const uint32_t n = pending < max ? pending : max;
        pending -= n;
        batches.push_back(n);
        return n;
    }
    bool stop() override { return stopping; }
    uint32_t pending = 0;
    bool stopping = false;
    std::vector<uint32_t> batches;
};

Task<void> count_app(int* n) {
    ++*n;
    co_return;
}

TEST(PollLoop, HandlesAtMostABatchThenYields) {
    PoolFixture pf;
    FakePlatform plat;
    ExecutorConfig cfg;
    cfg.poll_batch = 32;
    Executor ex(plat, cfg);
    FakeSource src;
    src.pending = 100;
    ASSERT_TRUE(ex.spawn(poll_loop(ex, src), TaskClass::Poll).ok());
    int app = 0;
    ASSERT_TRUE(ex.spawn(count_app(&app)).ok());
    ex.run_once(false);
    EXPECT_EQ(src.batches, (std::vector<uint32_t>{32}));
    EXPECT_EQ(app, 1) << "the app task ran between poll batches";
    ex.run_once(false);
    ex.run_once(false);
    ex.run_once(false);
    EXPECT_EQ(src.batches, (std::vector<uint32_t>{32, 32, 32, 4}));
    src.stopping = true;
    ex.run_until_idle();
    EXPECT_EQ(ex.live_tasks(), 0u);
}

TEST(PollLoop, IdleSourceParksAndTheCoreBlocks) {
    PoolFixture pf;
    FakePlatform plat;
    ExecutorConfig cfg;
    cfg.idle_poll_rounds = 3;
    Executor ex(plat, cfg);
    FakeSource src;
    ASSERT_TRUE(ex.spawn(poll_loop(ex, src), TaskClass::Poll).ok());
    ex.run_until_idle();  // does not spin forever: the loop parks
    EXPECT_EQ(src.batches.size(), 3u);
    EXPECT_FALSE(ex.has_ready());
    EXPECT_EQ(plat.m_blocks, 0u);
    // Idle core: blocks in the platform, then the poller runs again.
    src.pending = 5;
    ex.run_once(true);
    EXPECT_EQ(plat.m_blocks, 1u);
    EXPECT_EQ(plat.m_last_deadline, kForever);
    ex.run_once(true);
    EXPECT_EQ(src.batches.back(), 5u);
    src.stopping = true;
    ex.run_until_idle();
    EXPECT_EQ(ex.live_tasks(), 0u);
}

}  // namespace
}  // namespace ringlet::rt
