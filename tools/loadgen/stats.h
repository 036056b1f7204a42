// Stats: what a worker counts, readable by the progress thread while it runs.
#pragma once

#include <stdint.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "tools/loadgen/histogram.h"

namespace ringlet::loadgen {

// A plain copy of the counters, for arithmetic and reports.
struct Totals {
    uint64_t sent = 0;                  // requests issued
    uint64_t completed = 0;             // echoes that matched byte for byte
    uint64_t timeouts = 0;              // requests unanswered within --timeout-ms
    uint64_t errors = 0;                // socket and connection failures (events)
    uint64_t failed = 0;                // TCP requests lost with a failed connection
    uint64_t late = 0;                  // UDP echoes that came after their timeout
    uint64_t mismatched_responses = 0;  // echoes with at least one wrong byte
    uint64_t mismatched_bytes = 0;      // wrong, missing or extra bytes
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;
    uint64_t latency_sum_ns = 0;        // of completed requests, for the progress line

    Totals& operator+=(const Totals& o);
};

// One worker's results. The counters are atomics with a single writer (the
// worker) so the progress line can read them without stopping anyone.
class WorkerStats {
public:
    struct Counters {
        std::atomic<uint64_t> sent{0}, completed{0}, timeouts{0}, errors{0}, failed{0}, late{0},
            mismatched_responses{0}, mismatched_bytes{0}, bytes_sent{0}, bytes_received{0},
            latency_sum_ns{0};
    };

    // Adds `n` to one counter; only the owning worker calls this.
    static void add(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    // Records a request whose echo matched at `now_ns`, `latency_ns` after it
    // was due.
    void complete(uint64_t latency_ns, uint64_t now_ns) {
        add(m_counters.completed);
        add(m_counters.latency_sum_ns, latency_ns);
        m_latency.record(latency_ns);
        m_last_completion_ns = now_ns;
    }

    // Counts one error event and keeps its message if it is one of the first
    // few distinct ones, so the report can say what went wrong.
    void error(const std::string& message);

    // A consistent-enough copy for progress and the final report.
    Totals snapshot() const;

    Counters& counters() { return m_counters; }
    // Only valid once the worker has finished.
    const Histogram& latency() const { return m_latency; }
    uint64_t last_completion_ns() const { return m_last_completion_ns; }
    std::vector<std::string> error_messages() const;

    // Set by the worker when it returns, for the progress thread.
    std::atomic<bool> done{false};

private:
    Counters m_counters;
    Histogram m_latency;
    uint64_t m_last_completion_ns = 0;
    mutable std::mutex m_messages_lock;  // error() is rare; the lock is never hot
    std::vector<std::string> m_messages;
};

}  // namespace ringlet::loadgen
