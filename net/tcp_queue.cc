// TCP queues on lwIP's raw API (tcp_recv, tcp_sent, tcp_err, tcp_accept).
//
// Every lwIP callback only records what happened and wakes the waiting task
// through a Notifier; tasks do the work in their own turn. Zero-copy both
// ways: received pbufs stay chained in the queue, in the NIC's DMA buffers,
// and a pop hands the app the next segment's bytes in the buffer they
// arrived in (copied only when the app holds too much of the heap, see
// may_lend_rx); the window reopens (tcp_recved) only as the app pops, which
// is the flow control. A push gives lwIP a reference to the app's bytes
// (tcp_write without TCP_WRITE_FLAG_COPY) and the connection holds the
// buffer (TcpTxRefs) until the peer acknowledges them, so retransmissions
// read the same memory and the device sends from it by reference (a push
// that fits one segment of an idle connection skips tcp_write/tcp_output:
// net/tcp_fast_path.h, as do in-order segments tcp_input). A push
// completes once queued, as send(2) does - inline when the send buffer has
// room, else it waits for tcp_sent. The app must not change a pushed sga's
// bytes (it frees it; the memory is reused after the acknowledgement). Pushes on one connection run one at a time in the
// order they were issued (the PDPIX layer's PushTurn line): a push larger
// than the send buffer is written as the peer acknowledges, and a later push
// cannot slip its bytes in between. Close
// is graceful (FIN after queued data) unless data is still unread, in which
// case lwIP resets the connection, as Linux does.
#include <arpa/inet.h>
#include <string.h>

#include <new>

#include "libos/mem/dataplane_stats.h"
#include "libos/rt/notifier.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "net/dma_pbuf.h"
#include "net/lwip_backend.h"
#include "net/lwip_error.h"
#include "net/queues.h"
#include "net/steered_bind.h"
#include "net/tcp_fast_path.h"
#include "net/tcp_tx_refs.h"

namespace ringlet::net {

namespace {

// Bytes one pop returns at most (fits a 16 KiB heap block with its header).
constexpr uint32_t kMaxPop = 16 * 1024 - sizeof(mem::Buffer);
// Connections a listener holds for accept() beyond which SYNs are refused.
constexpr uint32_t kMaxBacklog = 64;
// The receive chain's u16 tot_len holds at most the window we advertise.
static_assert(TCP_WND + TCP_MSS < 0xffff, "unread data must fit one pbuf chain");

enum class State : uint8_t { Fresh, Connecting, Connected, Listening, Closed };

// Connections the app closed while lwIP still holds references to pushed
// bytes (unacknowledged, or a FIN still to go): their buffers stay held here
// until the peer acknowledges them or lwIP gives the pcb up. lwIP is one
// stack per process, so the pool is too.
struct OrphanTx {
    bool used = false;
    TcpTxRefs refs;
};
constexpr uint32_t kMaxOrphans = 32;
OrphanTx g_orphans[kMaxOrphans];

void forget_orphan(OrphanTx* o, tcp_pcb* pcb) {
    if (pcb != nullptr) {
        tcp_arg(pcb, nullptr);
        tcp_sent(pcb, nullptr);
        tcp_err(pcb, nullptr);
    }
    o->refs.release_all();
    o->used = false;
}

err_t orphan_sent(void* arg, tcp_pcb* pcb, u16_t len) {
    auto* o = static_cast<OrphanTx*>(arg);
    if (o == nullptr) return ERR_OK;
    o->refs.acked(len);
    if (o->refs.empty()) forget_orphan(o, pcb);
    return ERR_OK;
}

void orphan_err(void* arg, err_t) {
    // The pcb is gone, and lwIP's references with it.
    if (auto* o = static_cast<OrphanTx*>(arg)) forget_orphan(o, nullptr);
}

// Keeps `refs` alive until lwIP is done with pcb; false if no room (the
// caller must then reset the connection, which drops lwIP's references).
bool adopt_orphan(tcp_pcb* pcb, TcpTxRefs& refs) {
    for (OrphanTx& o : g_orphans) {
        if (o.used) continue;
        o.used = true;
        refs.move_to(o.refs);
        tcp_arg(pcb, &o);
        tcp_sent(pcb, orphan_sent);
        tcp_err(pcb, orphan_err);
        return true;
    }
    return false;
}

class TcpQueue final : public pdpix::Queue {
public:
    TcpQueue(LwipBackend& be, tcp_pcb* pcb, State state) : m_be(be), m_pcb(pcb), m_state(state) {
        tcp_arg(m_pcb, this);
        tcp_recv(m_pcb, on_recv);
        tcp_sent(m_pcb, on_sent);
        tcp_err(m_pcb, on_err);
        if (state == State::Connected) tcp_nagle_disable(m_pcb);
    }
    ~TcpQueue() override { close(); }

    Result<void> bind(const sockaddr_in& a) override {
        if (m_state != State::Fresh || m_pcb == nullptr || m_pcb->local_port != 0) return Error::InvalidArgument;
        ip_addr_t ip;
        ip_addr_set_ip4_u32(&ip, a.sin_addr.s_addr);
        ip_set_option(m_pcb, SOF_REUSEADDR);
        return lwip_result(tcp_bind(m_pcb, &ip, ntohs(a.sin_port)));
    }

    Result<void> listen(int backlog) override {
        if (m_state != State::Fresh || m_pcb == nullptr) return Error::InvalidArgument;
        if (m_pcb->local_port == 0) TRY(lwip_result(tcp_bind(m_pcb, IP_ADDR_ANY, 0)));
        const uint32_t want = backlog < 1 ? 1 : static_cast<uint32_t>(backlog);
        err_t err = ERR_OK;
        tcp_pcb* l = tcp_listen_with_backlog_and_err(m_pcb, static_cast<u8_t>(tcp_half_open_cap(want)), &err);
        if (l == nullptr) return from_lwip(err);  // the old pcb is still ours
        m_pcb = l;  // lwIP freed the unconnected pcb
        m_backlog_max = want < kMaxBacklog ? want : kMaxBacklog;
        m_state = State::Listening;
        tcp_arg(m_pcb, this);
        tcp_accept(m_pcb, on_accept);
        return {};
    }

    rt::Task<Result<pdpix::Queue*>> accept(sockaddr_in* peer) override {
        if (m_state != State::Listening) co_return Error::InvalidArgument;
        while (m_backlog_count == 0) {
            co_await m_accept_ready.wait();
            if (m_state != State::Listening) co_return Error::Closed;
        }
        TcpQueue* q = m_backlog[m_backlog_head];
        m_backlog_head = (m_backlog_head + 1) % kMaxBacklog;
        --m_backlog_count;
        *peer = q->m_peer;
        co_return static_cast<pdpix::Queue*>(q);
    }

    rt::Task<Result<void>> connect(sockaddr_in to) override {
        if (m_state != State::Fresh || m_pcb == nullptr) co_return Error::InvalidArgument;
        // Cores sharing the NIC: a local port whose replies come back here.
        if (m_pcb->local_port == 0) {
            if (auto bound = bind_steered(m_be, m_pcb, to); !bound) co_return bound.error();
        }
        ip_addr_t ip;
        ip_addr_set_ip4_u32(&ip, to.sin_addr.s_addr);
        const err_t e = tcp_connect(m_pcb, &ip, ntohs(to.sin_port), on_connected);
        m_be.kick();  // the SYN's retransmission timer
        if (e != ERR_OK) co_return from_lwip(e);
        m_state = State::Connecting;
        m_peer = to;
        while (m_state == State::Connecting && m_error == Error::Ok) co_await m_changed.wait();
        if (m_state == State::Connected) co_return Result<void>();
        co_return m_error != Error::Ok ? m_error : Error::Closed;
    }

    // The whole push fits the send buffer now: written and sent here, no task.
    Result<void> try_push(mem::Buffer* b, uint32_t start, uint32_t len, const sockaddr_in*) override {
        if (m_state != State::Connected || m_pcb == nullptr) return Error::WouldBlock;  // the task reports it
        if (start > b->capacity || len > b->capacity - start) return Error::InvalidArgument;
        if (len > tcp_sndbuf(m_pcb) || tcp_sndqueuelen(m_pcb) >= TCP_SND_QUEUELEN || !m_tx.has_room()) {
            return Error::WouldBlock;
        }
        const bool timer_running = LwipBackend::tcp_timer_running();  // true: our pcb is active
        // Only the app holds the buffer and the bytes in front of the push
        // are its headroom (not data): the send fast path may write the
        // headers there (net/tcp_fast_path.h).
        if (b->app_owned && b->refs <= 1 && start == b->off) {
            const TcpFastSend sent = tcp_fast_send(m_pcb, m_be, m_fast_tx, b, start, len);
            if (sent != TcpFastSend::No) {
                m_tx.add(&m_be.heap(), nullptr, len);  // the segment's pbuf holds b until it is acknowledged
                if (sent == TcpFastSend::Queued) (void)tcp_output(m_pcb);
                m_be.after_lwip_call(timer_running);
                return {};
            }
        }
        const err_t e = write(b, start, len, false);
        if (e == ERR_MEM) return Error::WouldBlock;
        if (e != ERR_OK) return from_lwip(e);
        (void)tcp_output(m_pcb);
        m_be.after_lwip_call(timer_running);
        return {};
    }

    rt::Task<Result<void>> push(mem::Buffer* b, uint32_t start, uint32_t len, const sockaddr_in*) override {
        if (m_state != State::Connected) co_return m_error != Error::Ok ? m_error : Error::InvalidArgument;
        if (start > b->capacity || len > b->capacity - start) co_return Error::InvalidArgument;
        uint32_t off = 0;
        while (off < len) {
            if (m_pcb == nullptr) co_return m_error != Error::Ok ? m_error : Error::Closed;
            uint32_t room = tcp_sndbuf(m_pcb);
            if (tcp_sndqueuelen(m_pcb) >= TCP_SND_QUEUELEN || !m_tx.has_room()) room = 0;
            uint32_t n = len - off < room ? len - off : room;
            if (n > 0xffff) n = 0xffff;
            if (n > 0) {
                const err_t e = write(b, start + off, n, off + n < len);
                if (e == ERR_OK) {
                    off += n;
                    continue;
                }
                if (e != ERR_MEM) co_return from_lwip(e);
            }
            // Full: send what is queued and wait for acknowledgements.
            (void)tcp_output(m_pcb);
            m_be.kick();
            if (m_pcb->unsent == nullptr && m_pcb->unacked == nullptr) {
                // Nothing of ours in flight, so no tcp_sent will come: lwIP's
                // memory is held by other connections. Retry shortly.
                auto slept = co_await m_be.executor().sleep_for(1000000);
                if (!slept.ok()) co_await m_be.executor().yield();
            } else {
                co_await m_writable.wait();
            }
        }
        if (m_pcb != nullptr) (void)tcp_output(m_pcb);
        m_be.kick();
        co_return Result<void>();
    }

    // Data (or the end, or an error) already there: the pop completes
    // inside demi_pop, no task.
    Result<mem::Buffer*> try_pop(sockaddr_in* from) override { return pop_now(from); }

    // A pop that must wait is completed from lwIP's callbacks (on_recv,
    // on_err) through serve_parked(): no task, no wake-up hop.
    bool park_pop(pdpix::PopWaiter* w) override {
        park(w);
        return true;
    }

    rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from) override {
        for (;;) {
            auto r = pop_now(from);
            if (r.ok() || r.error() != Error::WouldBlock) co_return r;
            co_await m_readable.wait();
        }
    }

    void close() override {
        if (m_state == State::Closed) return;
        const State was = m_state;
        m_state = State::Closed;
        if (m_rx != nullptr) {
            pbuf_free(m_rx);  // unread: lwIP's window shows it, so close resets
            m_rx = nullptr;
        }
        if (m_pcb != nullptr) {
            tcp_pcb* pcb = m_pcb;
            m_pcb = nullptr;
            tcp_arg(pcb, nullptr);  // nothing may call back into this queue
            if (was == State::Listening) {
                tcp_accept(pcb, nullptr);
                (void)tcp_close(pcb);  // a listener closes at once
            } else {
                tcp_recv(pcb, nullptr);  // lwIP acks and drops what still comes
                tcp_sent(pcb, nullptr);
                tcp_err(pcb, nullptr);
                // FIN after queued data, or RST with unread data. ERR_MEM
                // means no FIN could be queued: reset rather than leak.
                // lwIP may keep sending the app's bytes after this: their
                // buffers stay held until it is done (orphans).
                const bool graceful = tcp_close(pcb) == ERR_OK;
                if (!graceful) {
                    tcp_abort(pcb);
                } else if (!m_tx.empty() && !adopt_orphan(pcb, m_tx)) {
                    tcp_abort(pcb);  // nowhere to keep them: reset, which drops lwIP's references
                }
            }
            m_tx.release_all();  // lwIP holds none of them any more (or the orphan does)
            m_be.kick();
        }
        // Connections nobody accepted: reset them.
        while (m_backlog_count > 0) {
            TcpQueue* q = m_backlog[m_backlog_head];
            m_backlog_head = (m_backlog_head + 1) % kMaxBacklog;
            --m_backlog_count;
            q->abort();
            delete q;
        }
        // Pops still parked (the PDPIX layer cancels its own before a close).
        const sockaddr_in none{};
        while (pdpix::PopWaiter* w = take_parked_pop()) w->complete(Error::Closed, none);
        m_accept_ready.notify_all();
        m_changed.notify_all();
        m_readable.notify_all();
        m_writable.notify_all();
    }

    // The receive fast path's hand-off (tcp_take_direct): an in-order
    // payload goes straight to the oldest parked pop, in the RX buffer it
    // arrived in, when nothing is queued before it and the heap may lend
    // it; what pop_now would return for it through a pbuf, minus the pbuf.
    static bool take_direct(tcp_pcb* pcb, mem::Buffer* b, uint32_t off, uint32_t len) {
        if (pcb->recv != on_recv) return false;  // an orphan or someone else's
        TcpQueue* q = self(pcb->callback_arg);
        if (q == nullptr || q->m_rx != nullptr || !q->has_parked_pops() || !may_lend_rx(q->m_be.heap())) return false;
        b->off = off;
        b->len = len;
        b->app_owned = true;
        ++mem::g_dataplane_stats.rx_lent;
        q->take_parked_pop()->complete(b, q->m_peer);
        return true;
    }

    Result<void> getpeername(sockaddr_in* out) override {
        if (m_state != State::Connected || m_pcb == nullptr) return Error::Closed;
        *out = m_peer;
        return {};
    }

private:
    // A push's place in the connection's FIFO of writers, held for the
    // push's whole life; the first in line may write. Leaving (done, failed
    // or cancelled by close) hands the turn to the next.
    // Resets the connection and forgets the pcb (an unaccepted connection).
    void abort() {
        if (m_pcb == nullptr) return;
        tcp_pcb* pcb = m_pcb;
        m_pcb = nullptr;
        tcp_arg(pcb, nullptr);
        tcp_err(pcb, nullptr);
        tcp_abort(pcb);
        m_tx.release_all();
    }

    // What a pop returns now: the next segment (lent, or copied when it
    // must be), a zero-length buffer at the end of the stream, or the
    // connection's error; WouldBlock while nothing has arrived.
    Result<mem::Buffer*> pop_now(sockaddr_in* from) {
        if (m_state == State::Fresh || m_state == State::Listening) return Error::InvalidArgument;
        if (m_rx != nullptr) {
            if (mem::Buffer* lent = lend_head()) {
                *from = m_peer;
                return lent;
            }
            // Not one DMA segment, or the app holds too much: a counted copy.
            const uint32_t n = m_rx->tot_len < kMaxPop ? m_rx->tot_len : kMaxPop;
            mem::Buffer* b = TRY(m_be.heap().alloc(n));
            (void)pbuf_copy_partial(m_rx, b->data(), static_cast<u16_t>(n), 0);
            mem::count_payload_copy(n);
            ++mem::g_dataplane_stats.rx_copied;
            m_rx = pbuf_free_header(m_rx, static_cast<u16_t>(n));
            // Reopen the window only for what the app has taken.
            if (m_pcb != nullptr) tcp_recved(m_pcb, static_cast<u16_t>(n));
            *from = m_peer;
            return b;
        }
        if (m_eof) {
            mem::Buffer* e = TRY(m_be.heap().alloc(0));  // zero length: end of stream
            *from = m_peer;
            return e;
        }
        if (m_error != Error::Ok) return m_error;
        if (m_state == State::Closed) return Error::Closed;
        return Error::WouldBlock;
    }

    // Completes parked pops, oldest first, while there is something to give
    // them. Runs inside lwIP's callbacks: tcp_recved there is allowed (lwIP
    // defers its output while this pcb's input runs).
    void serve_parked() {
        while (has_parked_pops()) {
            sockaddr_in from{};
            auto r = pop_now(&from);
            if (!r.ok() && r.error() == Error::WouldBlock) return;
            take_parked_pop()->complete(r, from);
        }
    }

    // Writes b->data()[start, start + n) by reference (no copy), recording
    // the buffer until the bytes are acknowledged. lwIP's error otherwise.
    err_t write(mem::Buffer* b, uint32_t start, uint32_t n, bool more) {
        const u8_t flags = more ? TCP_WRITE_FLAG_MORE : 0;
        const err_t e = tcp_write(m_pcb, b->data() + start, static_cast<u16_t>(n), flags);
        if (e == ERR_OK) m_tx.add(&m_be.heap(), b, n);
        return e;
    }

    // The next received segment as the buffer it arrived in (payload at
    // begin()), taken off the chain with the window reopened; nullptr if
    // it must be copied instead.
    mem::Buffer* lend_head() {
        mem::Buffer* b;
        uint32_t off;
        if (!dma_segment(m_rx, &b, &off) || !may_lend_rx(m_be.heap())) return nullptr;
        const uint16_t n = m_rx->len;
        m_be.heap().retain(b);
        b->off = off;
        b->len = n;
        b->app_owned = true;
        m_rx = pbuf_free_header(m_rx, n);  // its wrapper goes; the buffer is the app's
        if (m_pcb != nullptr) tcp_recved(m_pcb, n);
        ++mem::g_dataplane_stats.rx_lent;
        return b;
    }

    static TcpQueue* self(void* arg) { return static_cast<TcpQueue*>(arg); }

    static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err) {
        TcpQueue* l = self(arg);
        if (l == nullptr || pcb == nullptr || err != ERR_OK) return ERR_VAL;  // lwIP aborts pcb
        if (l->m_backlog_count >= l->m_backlog_max) {
            tcp_abort(pcb);  // backlog full: refuse with RST
            return ERR_ABRT;
        }
        auto* q = new (std::nothrow_t{}) TcpQueue(l->m_be, pcb, State::Connected);
        if (q == nullptr) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        q->m_peer.sin_family = AF_INET;
        q->m_peer.sin_port = htons(pcb->remote_port);
        q->m_peer.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip));
        l->m_backlog[(l->m_backlog_head + l->m_backlog_count) % kMaxBacklog] = q;
        ++l->m_backlog_count;
        l->m_accept_ready.notify_all();
        return ERR_OK;
    }

    static err_t on_connected(void* arg, tcp_pcb* pcb, err_t) {
        TcpQueue* q = self(arg);
        if (q == nullptr) return ERR_OK;
        q->m_state = State::Connected;
        tcp_nagle_disable(pcb);  // a push is a message: send it now
        q->m_changed.notify_all();
        return ERR_OK;
    }

    static err_t on_recv(void* arg, tcp_pcb*, pbuf* p, err_t err) {
        TcpQueue* q = self(arg);
        if (p == nullptr) {  // FIN: end of stream after what is queued
            if (q != nullptr) {
                q->m_eof = true;
                q->serve_parked();
                q->m_readable.notify_all();
            }
            return ERR_OK;
        }
        if (q == nullptr || err != ERR_OK) {
            pbuf_free(p);
            return ERR_OK;
        }
        if (q->m_rx == nullptr) {
            q->m_rx = p;
        } else {
            pbuf_cat(q->m_rx, p);
        }
        q->serve_parked();
        q->m_readable.notify_all();
        return ERR_OK;
    }

    static err_t on_sent(void* arg, tcp_pcb*, u16_t len) {
        if (TcpQueue* q = self(arg)) {
            q->m_tx.acked(len);
            q->m_writable.notify_all();
        }
        return ERR_OK;
    }

    // lwIP has freed the pcb already (RST received, or retransmissions gave
    // up: ERR_ABRT).
    static void on_err(void* arg, err_t err) {
        TcpQueue* q = self(arg);
        if (q == nullptr) return;
        q->m_pcb = nullptr;
        q->m_tx.release_all();  // the pcb, and lwIP's references, are gone
        q->m_error = err == ERR_ABRT ? Error::TimedOut : Error::Closed;
        q->serve_parked();
        q->m_changed.notify_all();
        q->m_readable.notify_all();
        q->m_writable.notify_all();
    }

    LwipBackend& m_be;
    tcp_pcb* m_pcb;
    State m_state;
    Error m_error = Error::Ok;
    bool m_eof = false;
    pbuf* m_rx = nullptr;  // received, not yet popped
    TcpTxRefs m_tx;        // pushed buffers lwIP still refers to
    TcpFastTx m_fast_tx;   // the send fast path's route and neighbour
    sockaddr_in m_peer{};
    TcpQueue* m_backlog[kMaxBacklog] = {};
    uint32_t m_backlog_head = 0;
    uint32_t m_backlog_count = 0;
    uint32_t m_backlog_max = 0;
    rt::Notifier m_accept_ready;
    rt::Notifier m_changed;
    rt::Notifier m_readable;
    rt::Notifier m_writable;
};

}  // namespace

bool tcp_take_direct(tcp_pcb* pcb, mem::Buffer* b, uint32_t off, uint32_t len) {
    return TcpQueue::take_direct(pcb, b, off, len);
}

Result<pdpix::Queue*> make_tcp_queue(LwipBackend& backend) {
    tcp_pcb* pcb = tcp_new();
    if (pcb == nullptr) return Error::OutOfMemory;
    auto* q = new (std::nothrow_t{}) TcpQueue(backend, pcb, State::Fresh);
    if (q == nullptr) {
        tcp_abort(pcb);
        return Error::OutOfMemory;
    }
    return static_cast<pdpix::Queue*>(q);
}

}  // namespace ringlet::net
