#include "tools/loadgen/stats.h"

#include <algorithm>

namespace ringlet::loadgen {
namespace {
constexpr size_t kMaxMessages = 8;
}

Totals& Totals::operator+=(const Totals& o) {
    sent += o.sent;
    completed += o.completed;
    timeouts += o.timeouts;
    errors += o.errors;
    failed += o.failed;
    late += o.late;
    mismatched_responses += o.mismatched_responses;
    mismatched_bytes += o.mismatched_bytes;
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    latency_sum_ns += o.latency_sum_ns;
    return *this;
}

void WorkerStats::error(const std::string& message) {
    add(m_counters.errors);
    std::lock_guard<std::mutex> guard(m_messages_lock);
    if (m_messages.size() < kMaxMessages &&
        std::find(m_messages.begin(), m_messages.end(), message) == m_messages.end())
        m_messages.push_back(message);
}

Totals WorkerStats::snapshot() const {
    auto get = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    const Counters& c = m_counters;
    Totals t;
    t.sent = get(c.sent);
    t.completed = get(c.completed);
    t.timeouts = get(c.timeouts);
    t.errors = get(c.errors);
    t.failed = get(c.failed);
    t.late = get(c.late);
    t.mismatched_responses = get(c.mismatched_responses);
    t.mismatched_bytes = get(c.mismatched_bytes);
    t.bytes_sent = get(c.bytes_sent);
    t.bytes_received = get(c.bytes_received);
    t.latency_sum_ns = get(c.latency_sum_ns);
    return t;
}

std::vector<std::string> WorkerStats::error_messages() const {
    std::lock_guard<std::mutex> guard(m_messages_lock);
    return m_messages;
}

}  // namespace ringlet::loadgen
