#include "tools/loadgen/worker.h"

#include <gtest/gtest.h>

namespace ringlet::loadgen {
namespace {

TEST(WorkerPlans, SplitClientsRateAndRequestsWithoutLosingAny) {
    Options o;
    o.clients = 7;
    o.threads = 3;
    o.rate = 7000;
    o.requests = 1001;
    const auto plans = make_plans(o, sockaddr_in{}, 50, nullptr);
    ASSERT_EQ(plans.size(), 3u);
    uint32_t clients = 0;
    uint64_t quota = 0;
    double rate = 0;
    for (const WorkerPlan& p : plans) {
        EXPECT_GE(p.clients, 2u);
        EXPECT_DOUBLE_EQ(p.rate, 1000.0 * p.clients);  // 1000 req/s per client
        EXPECT_EQ(p.stop_ns, UINT64_MAX);             // bounded by count only
        clients += p.clients;
        quota += p.quota;
        rate += p.rate;
    }
    EXPECT_EQ(clients, 7u);
    EXPECT_EQ(quota, 1001u);
    EXPECT_DOUBLE_EQ(rate, 7000);
}

TEST(WorkerPlans, DurationSetsTheStopTime) {
    Options o;
    o.duration_s = 1.5;
    const auto plans = make_plans(o, sockaddr_in{}, 1000, nullptr);
    ASSERT_EQ(plans.size(), 1u);
    EXPECT_EQ(plans[0].stop_ns, 1000u + 1500000000u);
    EXPECT_EQ(plans[0].quota, UINT64_MAX);
    EXPECT_EQ(plans[0].rate, 0.0);
}

}  // namespace
}  // namespace ringlet::loadgen
