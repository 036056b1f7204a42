// Worker: one thread driving a share of the clients over its own epoll; the
// parts common to the UDP and TCP workers live in WorkerCore.
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <sys/epoll.h>

#include <atomic>
#include <optional>

#include "tools/loadgen/net.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/stats.h"
#include "tools/loadgen/workload.h"

namespace ringlet::loadgen {

// What one worker thread is asked to do.
struct WorkerPlan {
    const Options* options = nullptr;
    sockaddr_in server{};
    uint32_t index = 0;        // worker number, folded into sequence numbers
    uint32_t clients = 1;      // sockets/connections this worker owns
    double rate = 0;           // this worker's share of --rate; 0: closed loop
    uint64_t quota = UINT64_MAX;    // requests to issue at most
    uint64_t start_ns = 0;
    uint64_t stop_ns = UINT64_MAX;  // stop issuing at this time
    const std::atomic<bool>* cancel = nullptr;  // set on SIGINT/SIGTERM
};

// Splits the run described by `options` into `options.threads` plans that
// together issue the whole rate and request count over all clients.
std::vector<WorkerPlan> make_plans(const Options& options, const sockaddr_in& server,
                                   uint64_t start_ns, const std::atomic<bool>* cancel);

// Runs one UDP worker to completion, recording into `stats`.
void run_udp_worker(const WorkerPlan& plan, WorkerStats& stats);
// Runs one TCP worker to completion, recording into `stats`.
void run_tcp_worker(const WorkerPlan& plan, WorkerStats& stats);

// Epoll tags: client index in the low 32 bits, kind of descriptor above.
constexpr uint64_t kTimerTag = uint64_t{1} << 32;

// State and decisions that do not depend on the protocol.
class WorkerCore {
public:
    // Sets up the epoll and timer descriptors; on failure valid() is false and
    // the error has been recorded in `stats`.
    WorkerCore(const WorkerPlan& plan, WorkerStats& stats);

    bool valid() const { return m_ep.valid() && m_timer.valid(); }
    int epoll_fd() const { return m_ep.get(); }
    bool closed_loop() const { return m_plan.rate == 0; }
    uint64_t timeout_ns() const { return m_timeout_ns; }
    uint64_t connect_timeout_ns() const { return uint64_t{m_plan.options->connect_timeout_ms} * 1000000; }

    // Whether another request may be issued at `now`. Once it says no it says
    // no for good, and the drain deadline starts.
    bool may_issue(uint64_t now);
    // Stops issuing for good from `now` on, as if the run's bound was reached.
    void stop_issuing(uint64_t now);
    // Whether the worker should give up waiting for outstanding requests.
    bool drain_expired(uint64_t now) const { return m_closed && now >= m_drain_deadline_ns; }

    // The sequence number the next request will carry.
    uint64_t next_seq() const;
    // Counts the request carrying next_seq() as issued and moves past it;
    // called once the request has been handed to the kernel.
    void commit_seq();
    uint32_t take_size() { return m_sizes.next(); }
    // Whether `seq` was issued by this worker already (used to tell a late
    // UDP echo from a corrupted header).
    bool issued_here(uint64_t seq) const;

    // Open loop: the intended time of the next request (UINT64_MAX if closed).
    uint64_t due_ns() const { return m_arrival ? m_arrival->due_ns() : UINT64_MAX; }
    void advance_due() { m_arrival->advance(); }

    // Whether a timeout sweep is due at `now`; if so schedules the next.
    bool sweep_due(uint64_t now);

    // Waits for events, at most until the next due request or sweep; returns
    // how many of `events` were filled (0 on timeout or EINTR).
    int wait(epoll_event* events, int capacity, bool waiting_for_due);

    // Reads the timer after it fired so epoll stops reporting it.
    void drain_timer();

private:
    const WorkerPlan& m_plan;
    WorkerStats& m_stats;
    Fd m_ep;
    Fd m_timer;
    SizePicker m_sizes;
    std::optional<ArrivalClock> m_arrival;
    uint64_t m_timeout_ns;
    uint64_t m_sweep_every_ns;
    uint64_t m_next_sweep_ns;
    uint64_t m_next_counter = 0;
    uint64_t m_issued = 0;
    bool m_closed = false;
    uint64_t m_drain_deadline_ns = UINT64_MAX;
    uint64_t m_timer_armed_ns = 0;
};

}  // namespace ringlet::loadgen
