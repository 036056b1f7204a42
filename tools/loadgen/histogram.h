// Histogram: an HDR-style log-bucketed latency histogram.
//
// Values (nanoseconds here, but any uint64_t) below 2*kSubBuckets are kept
// exactly; above that every power-of-two range is split into kSubBuckets
// equal buckets, so a recorded value is known to within 1/kSubBuckets
// (< 0.8%) of itself over the whole uint64_t range at a fixed 58 KiB cost.
// Recording is O(1) with no allocation after construction, which matters
// because it sits on the per-response path of the load generator.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <vector>

namespace ringlet::loadgen {

class Histogram {
public:
    static constexpr unsigned kSubBucketBits = 7;
    static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;
    // Exact region [0, 2*kSubBuckets) is two rows of kSubBuckets; then one row
    // per octave from 2^(kSubBucketBits+1) up to 2^63: 64 - kSubBucketBits - 1.
    static constexpr size_t kBucketCount = (64 - kSubBucketBits + 1) * kSubBuckets;

    Histogram();

    // Adds one observation of `value`.
    void record(uint64_t value) { record_n(value, 1); }
    // Adds `n` observations of `value`.
    void record_n(uint64_t value, uint64_t n);
    // Adds every observation of `other` to this histogram.
    void merge(const Histogram& other);
    // Forgets every observation.
    void reset();

    uint64_t count() const { return m_count; }
    // Smallest and largest recorded values, exact; 0 when empty.
    uint64_t min() const { return m_count ? m_min : 0; }
    uint64_t max() const { return m_max; }
    // Exact arithmetic mean of the recorded values; 0 when empty.
    double mean() const;

    // The value at percentile `p` in [0, 100]: the highest value equivalent to
    // the bucket holding the ceil(p/100 * count)-th smallest observation,
    // clamped to [min, max]. 0 when empty.
    uint64_t value_at_percentile(double p) const;

    // Bucket geometry, public so that tests can check it.
    // Index of the bucket that holds `value`.
    static size_t bucket_index(uint64_t value);
    // Smallest value that lands in bucket `index` (index < kBucketCount).
    static uint64_t bucket_low(size_t index);
    // Largest value that lands in bucket `index` (index < kBucketCount).
    static uint64_t bucket_high(size_t index);

private:
    std::vector<uint64_t> m_counts;
    uint64_t m_count = 0;
    uint64_t m_min = UINT64_MAX;
    uint64_t m_max = 0;
    // Sum in long double: a uint64_t sum of ns latencies could overflow in a
    // long run and the mean does not need more than ~18 significant digits.
    long double m_sum = 0;
};

}  // namespace ringlet::loadgen
