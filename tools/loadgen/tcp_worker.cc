// The TCP worker: one connection per client. Echoes come back in order on a
// stream, so each connection checks incoming bytes against its oldest
// in-flight request, however the stream happens to be cut into reads.
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <deque>
#include <vector>

#include "tools/loadgen/payload.h"
#include "tools/loadgen/worker.h"

namespace ringlet::loadgen {
namespace {

// After a failed connection, wait this long before dialling again so that a
// dead server costs a few errors a second, not a busy loop.
constexpr uint64_t kReconnectBackoffNs = 100000000;

// Connections are dialled one at a time. QEMU's user network (slirp) listens
// for forwarded ports with a backlog of 1, so a burst of connects loses SYNs
// that TCP only retries a second later; dialling one by one makes that rarer
// (not impossible: the host kernel completes a handshake before slirp has
// accepted the previous one) for the cost of a round trip per client.
constexpr uint32_t kMaxConnecting = 1;

// A run bounded only by --requests would redial a dead server forever; after
// this many failed connects in a row, with none succeeding, the worker stops.
constexpr uint32_t kMaxFailedConnectsInRow = 20;

struct InFlight {
    Payload payload;
    uint64_t t0_ns;    // when the request was due (open loop) or sent (closed)
    uint64_t bad = 0;  // mismatched bytes seen so far in its echo
};

enum class ConnState { Down, Connecting, Open };

struct TcpConn {
    Fd fd;
    ConnState state = ConnState::Down;
    uint64_t connect_started_ns = 0;
    uint64_t retry_at_ns = 0;
    std::deque<InFlight> inflight;
    size_t rx_offset = 0;      // bytes of inflight.front() already received
    std::vector<uint8_t> out;  // bytes not yet accepted by the kernel
    size_t out_offset = 0;
    bool watching_out = false;  // EPOLLOUT is registered
};

class TcpWorker {
public:
    TcpWorker(const WorkerPlan& plan, WorkerStats& stats)
        : m_plan(plan), m_stats(stats), m_core(plan, stats), m_conns(plan.clients), m_rx(65536) {}

    void run();

private:
    void dial(uint32_t c, uint64_t now);
    // Dials connections that are down and due, up to kMaxConnecting at once.
    void dial_more(uint64_t now);
    void on_event(uint32_t c, uint32_t events);
    void on_connected(uint32_t c);
    // Queues one request on connection `c`, timed from `t0`.
    void issue(uint32_t c, uint64_t t0);
    void flush(uint32_t c);
    void receive(uint32_t c);
    void consume(uint32_t c, std::span<const uint8_t> bytes, uint64_t now);
    void watch_out(uint32_t c, bool on);
    // Closes `c`; its in-flight requests count as timeouts when `timed_out`,
    // otherwise `why` is recorded as one error.
    void drop(uint32_t c, bool timed_out, const std::string& why, uint64_t now);
    void issue_open_loop(uint64_t now);
    void sweep(uint64_t now);

    const WorkerPlan& m_plan;
    WorkerStats& m_stats;
    WorkerCore m_core;
    std::vector<TcpConn> m_conns;
    std::vector<uint8_t> m_rx;
    uint64_t m_outstanding = 0;
    uint32_t m_next_conn = 0;
    uint32_t m_connecting = 0;   // connections in ConnState::Connecting
    uint32_t m_dial_cursor = 0;  // where dial_more() resumes its round robin
    uint32_t m_failed_connects = 0;  // in a row, since the last connect that worked
    bool m_blocked = false;  // open loop: no connection could take a request
};

void TcpWorker::dial(uint32_t c, uint64_t now) {
    TcpConn& cn = m_conns[c];
    auto fd = open_socket(SOCK_STREAM);
    if (!fd) {
        m_stats.error(errno_text("socket", errno));
        cn.retry_at_ns = now + kReconnectBackoffNs;
        return;
    }
    cn.fd.reset(*fd);
    // Connecting from here on, so that drop() counts a failure at any step.
    cn.state = ConnState::Connecting;
    cn.connect_started_ns = now;
    ++m_connecting;
    // Requests are small and latency-bound: do not let Nagle hold them back.
    const int one = 1;
    setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(*fd, reinterpret_cast<const sockaddr*>(&m_plan.server), sizeof(m_plan.server)) != 0 &&
        errno != EINPROGRESS) {
        drop(c, false, errno_text("connect", errno), now);
        return;
    }
    // EPOLLOUT reports when the non-blocking connect has finished.
    if (!epoll_watch(m_core.epoll_fd(), *fd, EPOLLIN | EPOLLOUT, c)) {
        drop(c, false, errno_text("epoll_ctl", errno), now);
        return;
    }
    cn.watching_out = true;
}

void TcpWorker::dial_more(uint64_t now) {
    if (!m_core.may_issue(now)) return;
    for (uint32_t step = 0; step < m_plan.clients && m_connecting < kMaxConnecting; ++step) {
        const uint32_t c = m_dial_cursor;
        m_dial_cursor = (m_dial_cursor + 1) % m_plan.clients;
        if (m_conns[c].state == ConnState::Down && m_conns[c].retry_at_ns <= now) dial(c, now);
    }
}

void TcpWorker::drop(uint32_t c, bool timed_out, const std::string& why, uint64_t now) {
    TcpConn& cn = m_conns[c];
    if (timed_out) {
        WorkerStats::add(m_stats.counters().timeouts, cn.inflight.size());
    } else {
        m_stats.error(why);
        WorkerStats::add(m_stats.counters().failed, cn.inflight.size());
    }
    m_outstanding -= cn.inflight.size();
    if (cn.state == ConnState::Connecting) {
        --m_connecting;
        if (++m_failed_connects == kMaxFailedConnectsInRow) {
            m_stats.error("tcp: giving up after " + std::to_string(kMaxFailedConnectsInRow) +
                          " failed connects in a row");
            m_core.stop_issuing(now);
        }
    }
    cn.inflight.clear();
    cn.out.clear();
    cn.out_offset = 0;
    cn.rx_offset = 0;
    cn.fd.reset();  // closing also removes it from the epoll set
    cn.state = ConnState::Down;
    cn.watching_out = false;
    // The stream after a timeout is out of step with our requests, so start a
    // fresh connection; after an error, back off first.
    cn.retry_at_ns = timed_out ? now : now + kReconnectBackoffNs;
}

void TcpWorker::watch_out(uint32_t c, bool on) {
    TcpConn& cn = m_conns[c];
    if (cn.watching_out == on) return;
    const uint32_t events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
    if (!epoll_watch(m_core.epoll_fd(), cn.fd.get(), events, c, true)) {
        drop(c, false, errno_text("epoll_ctl", errno), now_ns());
        return;
    }
    cn.watching_out = on;
}

void TcpWorker::on_connected(uint32_t c) {
    TcpConn& cn = m_conns[c];
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(cn.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    const uint64_t now = now_ns();
    if (err != 0) {
        drop(c, false, errno_text("connect", err), now);
        dial_more(now);
        return;
    }
    cn.state = ConnState::Open;
    --m_connecting;
    m_failed_connects = 0;
    dial_more(now);
    if (m_core.closed_loop() && cn.inflight.empty() && m_core.may_issue(now)) issue(c, now);
    else flush(c);
}

void TcpWorker::issue(uint32_t c, uint64_t t0) {
    TcpConn& cn = m_conns[c];
    const Payload payload(m_core.next_seq(), m_core.take_size());
    // Compact before growing so a long-lived connection's buffer stays small.
    if (cn.out_offset == cn.out.size()) {
        cn.out.clear();
        cn.out_offset = 0;
    }
    const size_t at = cn.out.size();
    cn.out.resize(at + payload.size());
    payload.fill(std::span<uint8_t>(cn.out.data() + at, payload.size()));
    m_core.commit_seq();
    cn.inflight.push_back(InFlight{payload, t0});
    ++m_outstanding;
    if (cn.state == ConnState::Open) flush(c);
}

void TcpWorker::flush(uint32_t c) {
    TcpConn& cn = m_conns[c];
    while (cn.out_offset < cn.out.size()) {
        const ssize_t n = send(cn.fd.get(), cn.out.data() + cn.out_offset, cn.out.size() - cn.out_offset,
                               MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            // Partial write: the rest goes out when the socket is writable.
            if (errno == EAGAIN || errno == EWOULDBLOCK) return watch_out(c, true);
            return drop(c, false, errno_text("tcp send", errno), now_ns());
        }
        cn.out_offset += static_cast<size_t>(n);
        WorkerStats::add(m_stats.counters().bytes_sent, static_cast<uint64_t>(n));
    }
    cn.out.clear();
    cn.out_offset = 0;
    watch_out(c, false);
}

void TcpWorker::receive(uint32_t c) {
    // Bounded: one busy connection must not starve the others.
    for (int i = 0; i < 16 && m_conns[c].state == ConnState::Open; ++i) {
        const ssize_t n = recv(m_conns[c].fd.get(), m_rx.data(), m_rx.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            return drop(c, false, errno_text("tcp recv", errno), now_ns());
        }
        if (n == 0) return drop(c, false, "tcp: server closed the connection", now_ns());
        WorkerStats::add(m_stats.counters().bytes_received, static_cast<uint64_t>(n));
        consume(c, std::span<const uint8_t>(m_rx.data(), static_cast<size_t>(n)), now_ns());
    }
}

void TcpWorker::consume(uint32_t c, std::span<const uint8_t> bytes, uint64_t now) {
    TcpConn& cn = m_conns[c];
    auto& k = m_stats.counters();
    while (!bytes.empty()) {
        if (cn.inflight.empty()) {
            // More bytes than we sent: all of them are wrong.
            WorkerStats::add(k.mismatched_responses);
            WorkerStats::add(k.mismatched_bytes, bytes.size());
            return;
        }
        InFlight& front = cn.inflight.front();
        const size_t take = std::min<size_t>(bytes.size(), front.payload.size() - cn.rx_offset);
        front.bad += front.payload.count_mismatches(bytes.first(take), cn.rx_offset);
        cn.rx_offset += take;
        bytes = bytes.subspan(take);
        if (cn.rx_offset < front.payload.size()) return;
        if (front.bad != 0) {
            WorkerStats::add(k.mismatched_responses);
            WorkerStats::add(k.mismatched_bytes, front.bad);
        } else {
            m_stats.complete(now > front.t0_ns ? now - front.t0_ns : 0, now);
        }
        cn.inflight.pop_front();
        cn.rx_offset = 0;
        --m_outstanding;
        if (m_core.closed_loop() && m_core.may_issue(now)) issue(c, now);
        // issue() may have dropped the connection, taking the stream with it.
        if (cn.state != ConnState::Open) return;
    }
}

void TcpWorker::on_event(uint32_t c, uint32_t events) {
    TcpConn& cn = m_conns[c];
    if (cn.state == ConnState::Connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
        return;
    }
    if (cn.state != ConnState::Open) return;
    // Read first: EPOLLHUP with data pending should still deliver the data.
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(c);
    if (cn.state == ConnState::Open && (events & EPOLLOUT)) flush(c);
}

void TcpWorker::issue_open_loop(uint64_t now) {
    while (!m_blocked && m_core.due_ns() <= now && m_core.may_issue(now)) {
        // Round robin over connections that exist; a connecting one queues.
        bool placed = false;
        for (uint32_t tries = 0; tries < m_plan.clients && !placed; ++tries) {
            const uint32_t c = m_next_conn;
            m_next_conn = (m_next_conn + 1) % m_plan.clients;
            if (m_conns[c].state == ConnState::Down) continue;
            issue(c, m_core.due_ns());
            placed = true;
        }
        if (!placed) {
            m_blocked = true;  // all down: wait for the sweep to redial
            return;
        }
        m_core.advance_due();
    }
}

void TcpWorker::sweep(uint64_t now) {
    const bool issuing = m_core.may_issue(now);
    for (uint32_t c = 0; c < m_plan.clients; ++c) {
        TcpConn& cn = m_conns[c];
        if (cn.state == ConnState::Connecting && cn.connect_started_ns + m_core.connect_timeout_ns() <= now) {
            drop(c, false, "connect: timed out", now);
        } else if (!cn.inflight.empty() && cn.inflight.front().t0_ns + m_core.timeout_ns() <= now) {
            drop(c, true, "", now);
        }
        if (cn.state == ConnState::Open && m_core.closed_loop() && cn.inflight.empty() && issuing)
            issue(c, now);
    }
    dial_more(now);
    m_blocked = false;
}

void TcpWorker::run() {
    if (!m_core.valid()) return;
    const uint64_t start = now_ns();
    dial_more(start);
    epoll_event events[64];
    while (true) {
        const uint64_t now = now_ns();
        const bool issuing = m_core.may_issue(now);
        if (!issuing && m_outstanding == 0) break;
        if (m_core.drain_expired(now)) {
            for (uint32_t c = 0; c < m_plan.clients; ++c) {
                if (!m_conns[c].inflight.empty()) drop(c, true, "", now);
            }
            break;
        }
        if (!m_core.closed_loop()) issue_open_loop(now);
        if (m_core.sweep_due(now)) sweep(now);
        const bool waiting_for_due = !m_core.closed_loop() && issuing && !m_blocked;
        const int n = m_core.wait(events, 64, waiting_for_due);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == kTimerTag) m_core.drain_timer();
            else on_event(static_cast<uint32_t>(events[i].data.u64), events[i].events);
        }
    }
}

}  // namespace

void run_tcp_worker(const WorkerPlan& plan, WorkerStats& stats) {
    TcpWorker(plan, stats).run();
    stats.done.store(true, std::memory_order_release);
}

}  // namespace ringlet::loadgen
