#include "tools/loadgen/histogram.h"

#include <random>

#include <gtest/gtest.h>

namespace ringlet::loadgen {
namespace {

TEST(Histogram, EmptyReportsZeros) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_EQ(h.value_at_percentile(50), 0u);
}

TEST(Histogram, BucketsTileTheWholeRangeWithoutGaps) {
    EXPECT_EQ(Histogram::bucket_low(0), 0u);
    for (size_t i = 0; i + 1 < Histogram::kBucketCount; ++i) {
        ASSERT_LE(Histogram::bucket_low(i), Histogram::bucket_high(i)) << i;
        ASSERT_EQ(Histogram::bucket_high(i) + 1, Histogram::bucket_low(i + 1)) << i;
    }
    EXPECT_EQ(Histogram::bucket_high(Histogram::kBucketCount - 1), UINT64_MAX);
    EXPECT_EQ(Histogram::bucket_index(UINT64_MAX), Histogram::kBucketCount - 1);
}

TEST(Histogram, EveryValueLandsInABucketThatHoldsIt) {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 200000; ++i) {
        // Spread over all magnitudes, not just large numbers.
        const uint64_t v = rng() >> (rng() % 64);
        const size_t b = Histogram::bucket_index(v);
        ASSERT_LT(b, Histogram::kBucketCount);
        ASSERT_LE(Histogram::bucket_low(b), v);
        ASSERT_GE(Histogram::bucket_high(b), v);
        // The precision promise: a bucket is narrower than 1/128 of its values.
        ASSERT_LE(Histogram::bucket_high(b) - Histogram::bucket_low(b),
                  Histogram::bucket_low(b) / Histogram::kSubBuckets)
            << v;
    }
}

TEST(Histogram, SmallValuesAreExact) {
    Histogram h;
    for (uint64_t v = 1; v <= 100; ++v) h.record(v);
    EXPECT_EQ(h.value_at_percentile(50), 50u);
    EXPECT_EQ(h.value_at_percentile(99), 99u);
    EXPECT_EQ(h.value_at_percentile(100), 100u);
    EXPECT_EQ(h.value_at_percentile(0), 1u);
    EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

// |got - want| within the histogram's relative precision (plus one bucket).
void expect_close(uint64_t got, double want) {
    EXPECT_NEAR(static_cast<double>(got), want, want * 2.0 / Histogram::kSubBuckets) << "want " << want;
}

TEST(Histogram, UniformDistributionPercentiles) {
    Histogram h;
    for (uint64_t v = 1; v <= 1000000; ++v) h.record(v);
    expect_close(h.value_at_percentile(50), 500000);
    expect_close(h.value_at_percentile(90), 900000);
    expect_close(h.value_at_percentile(99), 990000);
    expect_close(h.value_at_percentile(99.9), 999000);
    EXPECT_EQ(h.min(), 1u);
    EXPECT_EQ(h.max(), 1000000u);
    EXPECT_DOUBLE_EQ(h.mean(), 500000.5);
}

TEST(Histogram, ExponentialDistributionPercentiles) {
    // Exponential with mean 100 us: the p-th percentile is -mean * ln(1 - p).
    std::mt19937_64 rng(7);
    std::exponential_distribution<double> d(1.0 / 100000.0);
    Histogram h;
    for (int i = 0; i < 1000000; ++i) h.record(static_cast<uint64_t>(d(rng)));
    // Sampling error at 1e6 draws is well under the 2% tolerance used here.
    auto near = [&](double p, double want) {
        EXPECT_NEAR(static_cast<double>(h.value_at_percentile(p)), want, want * 0.02) << "p" << p;
    };
    near(50, 100000 * std::log(2.0));
    near(99, 100000 * std::log(100.0));
    near(99.9, 100000 * std::log(1000.0));
    EXPECT_NEAR(h.mean(), 100000, 1000);
}

TEST(Histogram, BimodalTailIsNotHiddenByTheBulk) {
    Histogram h;
    h.record_n(100, 990);     // fast path
    h.record_n(50000, 10);    // 1% slow
    EXPECT_EQ(h.value_at_percentile(50), 100u);
    EXPECT_EQ(h.value_at_percentile(99), 100u);  // rank 990 is still fast
    expect_close(h.value_at_percentile(99.1), 50000);
    EXPECT_EQ(h.value_at_percentile(100), 50000u);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
    Histogram a, b, all;
    std::mt19937_64 rng(3);
    for (int i = 0; i < 10000; ++i) {
        const uint64_t v = rng() % 10000000;
        (i % 3 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.min(), all.min());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
    for (double p : {0.0, 10.0, 50.0, 99.0, 99.9, 100.0}) EXPECT_EQ(a.value_at_percentile(p), all.value_at_percentile(p));
}

TEST(Histogram, ExtremesAndReset) {
    Histogram h;
    h.record(0);
    h.record(UINT64_MAX);
    EXPECT_EQ(h.value_at_percentile(0), 0u);
    EXPECT_EQ(h.value_at_percentile(100), UINT64_MAX);
    EXPECT_EQ(h.value_at_percentile(-5), 0u);  // clamped, not undefined
    EXPECT_EQ(h.value_at_percentile(500), UINT64_MAX);
    h.reset();
    EXPECT_EQ(h.count(), 0u);
    h.record(5);
    EXPECT_EQ(h.min(), 5u);
    EXPECT_EQ(h.max(), 5u);
}

}  // namespace
}  // namespace ringlet::loadgen
