// The UDP worker: one connected socket per client, echoes matched to requests
// by the sequence number in the payload header.
#include <errno.h>
#include <sys/socket.h>

#include <deque>
#include <unordered_map>
#include <vector>

#include "tools/loadgen/payload.h"
#include "tools/loadgen/worker.h"

namespace ringlet::loadgen {
namespace {

struct Pending {
    uint32_t size;
    uint64_t t0_ns;  // when the request was due (open loop) or sent (closed)
};

struct UdpClient {
    Fd fd;
    std::unordered_map<uint64_t, Pending> outstanding;
    // Requests in send order with their deadlines; deadlines grow with send
    // order, so the sweep only ever looks at the front.
    std::deque<std::pair<uint64_t, uint64_t>> deadlines;
};

enum class SendStatus { Sent, Full, Failed };

class UdpWorker {
public:
    UdpWorker(const WorkerPlan& plan, WorkerStats& stats)
        : m_plan(plan), m_stats(stats), m_core(plan, stats), m_tx(65536), m_rx(65536) {}

    void run();

private:
    bool open_clients();
    SendStatus send_request(uint32_t c, uint64_t t0);
    void issue_open_loop(uint64_t now);
    void receive(uint32_t c);
    void on_datagram(uint32_t c, std::span<const uint8_t> msg, uint64_t now);
    void sweep(uint64_t now);
    void expire_all();

    const WorkerPlan& m_plan;
    WorkerStats& m_stats;
    WorkerCore m_core;
    std::vector<UdpClient> m_clients;
    std::vector<uint8_t> m_tx;
    std::vector<uint8_t> m_rx;
    uint64_t m_outstanding = 0;
    uint32_t m_next_client = 0;  // open loop: round robin
    bool m_blocked = false;      // open loop: every socket was full; wait for a sweep
};

bool UdpWorker::open_clients() {
    m_clients.resize(m_plan.clients);
    for (uint32_t c = 0; c < m_plan.clients; ++c) {
        auto fd = open_socket(SOCK_DGRAM);
        if (!fd) {
            m_stats.error(errno_text("socket", errno));
            return false;
        }
        m_clients[c].fd.reset(*fd);
        // Echoes that arrive while this thread is descheduled wait in the
        // receive buffer; the default (~200 KiB) drops an open-loop burst and
        // turns scheduler noise into timeouts. FORCE needs CAP_NET_ADMIN, so
        // fall back to what the unprivileged limit allows.
        const int want = 4 << 20;
        if (setsockopt(*fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
            setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
        // connect() makes the kernel drop datagrams from anyone but the server
        // and report ICMP port-unreachable as ECONNREFUSED on this socket.
        if (connect(*fd, reinterpret_cast<const sockaddr*>(&m_plan.server), sizeof(m_plan.server)) != 0) {
            m_stats.error(errno_text("connect", errno));
            return false;
        }
        if (!epoll_watch(m_core.epoll_fd(), *fd, EPOLLIN, c)) {
            m_stats.error(errno_text("epoll_ctl", errno));
            return false;
        }
    }
    return true;
}

SendStatus UdpWorker::send_request(uint32_t c, uint64_t t0) {
    UdpClient& cl = m_clients[c];
    const uint32_t size = m_core.take_size();
    const uint64_t seq = m_core.next_seq();
    std::span<uint8_t> out(m_tx.data(), size);
    Payload(seq, size).fill(out);
    const ssize_t n = send(cl.fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0) {
        // A full socket buffer is back-pressure, not a failure: the request is
        // not issued and is tried again later.
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return SendStatus::Full;
        m_stats.error(errno_text("udp send", errno));
        return SendStatus::Failed;
    }
    m_core.commit_seq();
    WorkerStats::add(m_stats.counters().bytes_sent, static_cast<uint64_t>(n));
    cl.outstanding.emplace(seq, Pending{size, t0});
    cl.deadlines.emplace_back(seq, t0 + m_core.timeout_ns());
    ++m_outstanding;
    return SendStatus::Sent;
}

void UdpWorker::issue_open_loop(uint64_t now) {
    // Catch up on every request already due; latency still counts from due.
    while (!m_blocked && m_core.due_ns() <= now && m_core.may_issue(now)) {
        SendStatus st = SendStatus::Full;
        for (uint32_t tries = 0; tries < m_plan.clients && st == SendStatus::Full; ++tries) {
            const uint32_t c = m_next_client;
            m_next_client = (m_next_client + 1) % m_plan.clients;
            st = send_request(c, m_core.due_ns());
        }
        if (st == SendStatus::Full) {
            m_blocked = true;
            return;
        }
        // A failed send is an error already counted; the slot is spent either
        // way so a dead server does not make the generator spin.
        m_core.advance_due();
    }
}

void UdpWorker::receive(uint32_t c) {
    UdpClient& cl = m_clients[c];
    // Bounded: a server flooding one socket must not starve the others.
    for (int i = 0; i < 64; ++i) {
        const ssize_t n = recv(cl.fd.get(), m_rx.data(), m_rx.size(), MSG_TRUNC);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            // Typically ECONNREFUSED: nothing listens. The request will time out.
            m_stats.error(errno_text("udp recv", errno));
            return;
        }
        const uint64_t now = now_ns();
        // MSG_TRUNC reports the real length; anything longer than the buffer
        // could not be one of our requests anyway.
        const size_t len = std::min<size_t>(static_cast<size_t>(n), m_rx.size());
        WorkerStats::add(m_stats.counters().bytes_received, static_cast<uint64_t>(n));
        on_datagram(c, std::span<const uint8_t>(m_rx.data(), len), now);
    }
}

void UdpWorker::on_datagram(uint32_t c, std::span<const uint8_t> msg, uint64_t now) {
    UdpClient& cl = m_clients[c];
    auto& k = m_stats.counters();
    auto header = peek_header(msg);
    auto it = header ? cl.outstanding.find(header->seq) : cl.outstanding.end();
    if (it == cl.outstanding.end()) {
        // Not outstanding here. An intact echo of a request this worker sent
        // is one whose timeout was already counted; anything else (a garbled
        // header, bytes glued from several requests) is a mismatch in every
        // byte, and its request, if any, will time out.
        if (header && m_core.issued_here(header->seq) &&
            count_message_mismatches(Payload(header->seq, header->size), msg) == 0) {
            WorkerStats::add(k.late);
            return;
        }
        WorkerStats::add(k.mismatched_responses);
        WorkerStats::add(k.mismatched_bytes, msg.size());
        return;
    }
    const Pending pending = it->second;
    cl.outstanding.erase(it);
    --m_outstanding;
    const uint64_t bad = count_message_mismatches(Payload(header->seq, pending.size), msg);
    if (bad != 0) {
        WorkerStats::add(k.mismatched_responses);
        WorkerStats::add(k.mismatched_bytes, bad);
    } else {
        m_stats.complete(now > pending.t0_ns ? now - pending.t0_ns : 0, now);
    }
    if (m_core.closed_loop() && m_core.may_issue(now)) send_request(c, now);
}

void UdpWorker::sweep(uint64_t now) {
    for (uint32_t c = 0; c < m_plan.clients; ++c) {
        UdpClient& cl = m_clients[c];
        while (!cl.deadlines.empty() && cl.deadlines.front().second <= now) {
            if (cl.outstanding.erase(cl.deadlines.front().first) != 0) {
                WorkerStats::add(m_stats.counters().timeouts);
                --m_outstanding;
            }
            cl.deadlines.pop_front();
        }
        // Closed loop: a client left idle by a timeout or a failed send
        // starts its next request here, at most once per sweep.
        if (m_core.closed_loop() && cl.outstanding.empty() && m_core.may_issue(now))
            send_request(c, now);
    }
    m_blocked = false;
}

void UdpWorker::expire_all() {
    for (UdpClient& cl : m_clients) {
        WorkerStats::add(m_stats.counters().timeouts, cl.outstanding.size());
        cl.outstanding.clear();
        cl.deadlines.clear();
    }
    m_outstanding = 0;
}

void UdpWorker::run() {
    if (!m_core.valid() || !open_clients()) return;
    const uint64_t start = now_ns();
    if (m_core.closed_loop()) {
        for (uint32_t c = 0; c < m_plan.clients && m_core.may_issue(start); ++c) send_request(c, start);
    }
    epoll_event events[64];
    while (true) {
        uint64_t now = now_ns();
        const bool issuing = m_core.may_issue(now);
        if (!issuing && m_outstanding == 0) break;
        if (m_core.drain_expired(now)) {
            expire_all();
            break;
        }
        if (!m_core.closed_loop()) issue_open_loop(now);
        if (m_core.sweep_due(now)) sweep(now);
        const bool waiting_for_due = !m_core.closed_loop() && issuing && !m_blocked;
        const int n = m_core.wait(events, 64, waiting_for_due);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == kTimerTag) m_core.drain_timer();
            else receive(static_cast<uint32_t>(events[i].data.u64));
        }
    }
}

}  // namespace

void run_udp_worker(const WorkerPlan& plan, WorkerStats& stats) {
    UdpWorker(plan, stats).run();
    stats.done.store(true, std::memory_order_release);
}

}  // namespace ringlet::loadgen
