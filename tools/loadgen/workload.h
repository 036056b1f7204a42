// Workload: what to send next and when, for both the closed and the open loop.
#pragma once

#include <stdint.h>

#include <random>

#include "tools/loadgen/options.h"

namespace ringlet::loadgen {

// Draws payload sizes from a SizeMix.
class SizePicker {
public:
    // Precondition: `mix` passed option validation (non-empty list or lo <= hi).
    SizePicker(const SizeMix& mix, uint64_t seed);
    // The size of the next request.
    uint32_t next();

private:
    SizeMix m_mix;
    std::mt19937_64 m_rng;
};

// Intended send times of an open-loop request stream. Latency is measured
// from these times, not from when the send happened, so a server that stalls
// the generator is charged for the requests that queued up behind it (the
// "coordinated omission" a closed loop hides).
class ArrivalClock {
public:
    // A stream at `rate` requests/s (> 0) starting at `start_ns`.
    ArrivalClock(double rate, Arrival arrival, uint64_t start_ns, uint64_t seed);
    // The intended time of the next request, without consuming it.
    uint64_t due_ns() const { return m_due_ns; }
    // Consumes the current request and draws the next intended time.
    void advance();

private:
    double m_mean_gap_ns;
    Arrival m_arrival;
    double m_due_exact;  // kept in double so fixed gaps do not drift by rounding
    uint64_t m_due_ns;
    std::mt19937_64 m_rng;
    std::exponential_distribution<double> m_exp{1.0};
};

}  // namespace ringlet::loadgen
