#include "tools/loadgen/histogram.h"

#include <algorithm>
#include <cmath>

namespace ringlet::loadgen {

Histogram::Histogram() : m_counts(kBucketCount, 0) {}

size_t Histogram::bucket_index(uint64_t value) {
    if (value < 2 * kSubBuckets) return static_cast<size_t>(value);
    // msb >= kSubBucketBits + 1 here, so shift >= 1 and value >> shift has its
    // top bit at kSubBucketBits: top lies in [kSubBuckets, 2*kSubBuckets).
    const unsigned msb = 63 - static_cast<unsigned>(__builtin_clzll(value));
    const unsigned shift = msb - kSubBucketBits;
    const uint64_t top = value >> shift;
    return static_cast<size_t>(shift * kSubBuckets + top);
}

uint64_t Histogram::bucket_low(size_t index) {
    if (index < 2 * kSubBuckets) return index;
    const uint64_t shift = index / kSubBuckets - 1;
    const uint64_t top = index % kSubBuckets + kSubBuckets;
    return top << shift;
}

uint64_t Histogram::bucket_high(size_t index) {
    if (index < 2 * kSubBuckets) return index;
    const uint64_t shift = index / kSubBuckets - 1;
    // low + width - 1 cannot overflow: the last bucket ends at UINT64_MAX.
    return bucket_low(index) + ((uint64_t{1} << shift) - 1);
}

void Histogram::record_n(uint64_t value, uint64_t n) {
    if (n == 0) return;
    m_counts[bucket_index(value)] += n;
    m_count += n;
    m_min = std::min(m_min, value);
    m_max = std::max(m_max, value);
    m_sum += static_cast<long double>(value) * static_cast<long double>(n);
}

void Histogram::merge(const Histogram& other) {
    if (other.m_count == 0) return;
    for (size_t i = 0; i < kBucketCount; ++i) m_counts[i] += other.m_counts[i];
    m_count += other.m_count;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
    m_sum += other.m_sum;
}

void Histogram::reset() {
    std::fill(m_counts.begin(), m_counts.end(), 0);
    m_count = 0;
    m_min = UINT64_MAX;
    m_max = 0;
    m_sum = 0;
}

double Histogram::mean() const {
    if (m_count == 0) return 0.0;
    return static_cast<double>(m_sum / static_cast<long double>(m_count));
}

uint64_t Histogram::value_at_percentile(double p) const {
    if (m_count == 0) return 0;
    if (!(p >= 0.0)) p = 0.0;  // also catches NaN
    if (p > 100.0) p = 100.0;
    // Rank of the wanted observation, 1-based; p = 0 means the smallest.
    const long double exact = static_cast<long double>(p) / 100.0L * m_count;
    uint64_t rank = static_cast<uint64_t>(std::ceil(exact));
    rank = std::clamp<uint64_t>(rank, 1, m_count);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBucketCount; ++i) {
        seen += m_counts[i];
        if (seen >= rank) return std::clamp(bucket_high(i), m_min, m_max);
    }
    return m_max;  // unreachable while m_count matches the buckets
}

}  // namespace ringlet::loadgen
