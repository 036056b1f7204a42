#include "tools/loadgen/workload.h"

namespace ringlet::loadgen {

SizePicker::SizePicker(const SizeMix& mix, uint64_t seed) : m_mix(mix), m_rng(seed) {}

uint32_t SizePicker::next() {
    if (m_mix.is_range) {
        std::uniform_int_distribution<uint32_t> d(m_mix.lo, m_mix.hi);
        return d(m_rng);
    }
    if (m_mix.list.size() == 1) return m_mix.list[0];
    std::uniform_int_distribution<size_t> d(0, m_mix.list.size() - 1);
    return m_mix.list[d(m_rng)];
}

ArrivalClock::ArrivalClock(double rate, Arrival arrival, uint64_t start_ns, uint64_t seed)
    : m_mean_gap_ns(1e9 / rate),
      m_arrival(arrival),
      m_due_exact(static_cast<double>(start_ns)),
      m_due_ns(start_ns),
      m_rng(seed) {}

void ArrivalClock::advance() {
    // Poisson arrivals have exponentially distributed gaps with the same mean.
    const double gap = m_arrival == Arrival::Fixed ? m_mean_gap_ns : m_mean_gap_ns * m_exp(m_rng);
    m_due_exact += gap;
    m_due_ns = static_cast<uint64_t>(m_due_exact);
}

}  // namespace ringlet::loadgen
