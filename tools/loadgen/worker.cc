#include "tools/loadgen/worker.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>

namespace ringlet::loadgen {
namespace {

constexpr unsigned kSeqCounterBits = 48;
constexpr uint64_t kSeqCounterMask = (uint64_t{1} << kSeqCounterBits) - 1;

// floor(total * part / whole) without overflow; whole > 0.
uint64_t share(uint64_t total, uint64_t part, uint64_t whole) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(total) * part / whole);
}

}  // namespace

std::vector<WorkerPlan> make_plans(const Options& options, const sockaddr_in& server,
                                   uint64_t start_ns, const std::atomic<bool>* cancel) {
    std::vector<WorkerPlan> plans;
    const uint32_t threads = options.threads;
    uint64_t clients_before = 0;
    for (uint32_t i = 0; i < threads; ++i) {
        WorkerPlan p;
        p.options = &options;
        p.server = server;
        p.index = i;
        p.clients = options.clients / threads + (i < options.clients % threads ? 1 : 0);
        // Rate and request count follow the clients so every client sees the
        // same load whichever thread it landed on.
        p.rate = options.rate * p.clients / options.clients;
        if (options.requests != 0)
            p.quota = share(options.requests, clients_before + p.clients, options.clients) -
                      share(options.requests, clients_before, options.clients);
        p.start_ns = start_ns;
        if (options.duration_s > 0) p.stop_ns = start_ns + static_cast<uint64_t>(options.duration_s * 1e9);
        p.cancel = cancel;
        clients_before += p.clients;
        plans.push_back(p);
    }
    return plans;
}

WorkerCore::WorkerCore(const WorkerPlan& plan, WorkerStats& stats)
    : m_plan(plan),
      m_stats(stats),
      m_ep(epoll_create1(EPOLL_CLOEXEC)),
      m_timer(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      m_sizes(plan.options->sizes, plan.options->seed * 1000003 + plan.index),
      m_timeout_ns(uint64_t{plan.options->timeout_ms} * 1000000) {
    if (plan.rate > 0)
        m_arrival.emplace(plan.rate, plan.options->arrival, plan.start_ns,
                          plan.options->seed * 7919 + plan.index);
    // Timeouts are found by a periodic sweep: often enough to keep a timeout
    // within a quarter of its length, rarely enough to cost nothing.
    m_sweep_every_ns = std::clamp<uint64_t>(m_timeout_ns / 4, 1000000, 10000000);
    m_next_sweep_ns = plan.start_ns + m_sweep_every_ns;
    if (!m_ep.valid()) m_stats.error(errno_text("epoll_create1", errno));
    if (!m_timer.valid()) m_stats.error(errno_text("timerfd_create", errno));
    if (valid() && !epoll_watch(m_ep.get(), m_timer.get(), EPOLLIN, kTimerTag)) {
        m_stats.error(errno_text("epoll_ctl(timerfd)", errno));
        m_timer.reset();
    }
}

bool WorkerCore::may_issue(uint64_t now) {
    if (m_closed) return false;
    if (m_issued >= m_plan.quota || now >= m_plan.stop_ns ||
        (m_plan.cancel && m_plan.cancel->load(std::memory_order_relaxed))) {
        stop_issuing(now);
        return false;
    }
    return true;
}

void WorkerCore::stop_issuing(uint64_t now) {
    if (m_closed) return;
    m_closed = true;
    m_drain_deadline_ns = now + m_timeout_ns + m_sweep_every_ns;
}

uint64_t WorkerCore::next_seq() const {
    return (uint64_t{m_plan.index} << kSeqCounterBits) | (m_next_counter & kSeqCounterMask);
}

void WorkerCore::commit_seq() {
    ++m_issued;
    ++m_next_counter;
    WorkerStats::add(m_stats.counters().sent);
}

bool WorkerCore::issued_here(uint64_t seq) const {
    return (seq >> kSeqCounterBits) == m_plan.index && (seq & kSeqCounterMask) < m_next_counter;
}

bool WorkerCore::sweep_due(uint64_t now) {
    if (now < m_next_sweep_ns) return false;
    m_next_sweep_ns = now + m_sweep_every_ns;
    return true;
}

int WorkerCore::wait(epoll_event* events, int capacity, bool waiting_for_due) {
    const uint64_t now = now_ns();
    // The timerfd gives open-loop sends nanosecond placement; epoll_wait's own
    // millisecond timeout only needs to catch sweeps and the stop time.
    if (waiting_for_due && due_ns() != m_timer_armed_ns) {
        arm_timer(m_timer.get(), due_ns());
        m_timer_armed_ns = due_ns();
    }
    const uint64_t until = m_next_sweep_ns > now ? m_next_sweep_ns - now : 0;
    const int timeout_ms = static_cast<int>((until + 999999) / 1000000);
    const int n = epoll_wait(m_ep.get(), events, capacity, timeout_ms);
    if (n < 0) {
        if (errno != EINTR) m_stats.error(errno_text("epoll_wait", errno));
        return 0;
    }
    return n;
}

void WorkerCore::drain_timer() {
    uint64_t expirations = 0;
    // Non-blocking: EAGAIN just means someone already read it.
    [[maybe_unused]] ssize_t r = read(m_timer.get(), &expirations, sizeof(expirations));
    m_timer_armed_ns = 0;
}

}  // namespace ringlet::loadgen
