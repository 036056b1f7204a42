#include "user/httpd/server.h"

#include <arpa/inet.h>
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <new>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libos/pdpix/ringlet_demi.h"
#include "user/httpd/clock.h"

namespace httpd {

namespace {

constexpr int kMaxConns = 64;
constexpr int kMaxQds = 1024;
constexpr uint32_t kMaxPushes = 8;  // per connection: 4 responses with a body
constexpr size_t kInBuf = 8192;     // per connection: Limits::max_head at most
constexpr int kBatch = 64;          // results taken per wait

// No token list: the loop takes whatever completed (demi_wait_next_n, O(1)
// per result in the libOS) and routes each result by its queue and token -
// a wait_any over every outstanding token cost ~30 instructions per token
// per wake-up. A result for a queue we closed (its operations complete as
// cancelled) finds no open connection: the libOS hands results out in
// completion order, and a close's cancellations complete before any later
// accept could reuse the qd.

struct Conn {
    bool open = false;
    bool popping = false;
    bool closing = false;  // close once the pushes in flight are done
    bool has_held = false;  // a popped sga not yet fully appended
    int qd = -1;
    demi_qtoken_t pop_qt = 0;  // the pop in flight (while popping)
    uint32_t pushes = 0;
    uint64_t skip = 0;      // body bytes of the last request still to drop
    uint64_t deadline = 0;  // ms: see server.h
    demi_sgarray_t held{};
    uint32_t held_off = 0;
    size_t len = 0;
    RequestParser parser;
    char in[kInBuf];
};

void say(const char* s) { (void)!write(2, s, strlen(s)); }

// Stats::read_dataplane: the libOS's counters, for a /stats page only.
bool read_dataplane(Stats::Dataplane* out) {
    struct ringlet_demi_stats dp {};
    if (ringlet_demi_stats(&dp) != 0) return false;
    out->copied = dp.payload_bytes_copied;
    out->by_reference = dp.tx_by_reference;
    return true;
}

class Server {
public:
    Server(const Site& site, const FileBuffers& files, const Config& cfg) : m_site(site), m_files(files), m_cfg(cfg) {
        if (m_cfg.limits.max_head > kInBuf) m_cfg.limits.max_head = kInBuf;
        m_heads.build(site);
        m_stats.read_dataplane = read_dataplane;
    }
    int run();

private:
    bool start_accept();
    void accepted(int qd);
    void popped(Conn& c, demi_qresult_t& qr);
    void pushed(Conn& c, const demi_qresult_t& qr);
    void feed(Conn& c);
    size_t answer(Conn& c, const char* buf, size_t len);
    void process(Conn& c);
    void resume(Conn& c);
    bool push(Conn& c, const demi_sgarray_t* sga);
    void send(Conn& c, const Response& r);
    void start_pop(Conn& c);
    void close_now(Conn& c);
    void expire(uint64_t now);
    void handle(demi_qresult_t& qr);

    const Site& m_site;
    const FileBuffers& m_files;
    FileHeads m_heads;
    Config m_cfg;
    Stats m_stats;
    int m_listen = -1;
    bool m_accepting = false;
    // No open connection's deadline is earlier than this (UINT64_MAX: none
    // to watch). Every deadline is set to now + idle_ms, so a new one is
    // never earlier than those set before: the bound only needs lowering
    // from "none", and expire() makes it exact again. The loop need not
    // scan every connection for its timeout on each wake-up.
    uint64_t m_wake = UINT64_MAX;
    void set_deadline(Conn& c, uint64_t at) {
        c.deadline = at;
        if (at < m_wake) m_wake = at;
    }
    Conn m_conns[kMaxConns];
    Conn* m_by_qd[kMaxQds] = {};  // open connections only
    char m_out[kResponseBuffer];
};

bool Server::start_accept() {
    demi_qtoken_t qt;
    m_accepting = demi_accept(&qt, m_listen) == 0;
    return m_accepting;
}

void Server::accepted(int qd) {
    Conn* c = nullptr;
    for (Conn& k : m_conns) {
        if (!k.open) {
            c = &k;
            break;
        }
    }
    if (c == nullptr || qd < 0 || qd >= kMaxQds) {
        ++m_stats.connections_refused;  // each slow client holds one slot, no more
        (void)demi_close(qd);
        return;
    }
    c->open = true;
    c->popping = c->closing = c->has_held = false;
    c->qd = qd;
    c->pushes = 0;
    c->skip = 0;
    c->len = 0;
    c->parser = RequestParser(m_cfg.limits);
    set_deadline(*c, now_ms() + m_cfg.idle_ms);
    m_by_qd[qd] = c;
    // A response is two pushes (head, then the file's buffers): without
    // this, Nagle holds the body back until the head is acknowledged (a
    // delayed ACK later) on Linux. lwIP's queues disable Nagle themselves
    // (and refuse the option: ignored).
    const int one = 1;
    (void)demi_setsockopt(qd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++m_stats.connections_accepted;
    ++m_stats.connections_open;
    ++m_stats.core[0].connections;
    start_pop(*c);
}

void Server::start_pop(Conn& c) {
    if (demi_pop(&c.pop_qt, c.qd) != 0) {
        close_now(c);
        return;
    }
    c.popping = true;
}

void Server::close_now(Conn& c) {
    if (!c.open) return;
    c.open = false;
    if (c.has_held) (void)demi_sgafree(&c.held);
    c.has_held = false;
    m_by_qd[c.qd] = nullptr;
    --m_stats.connections_open;
    (void)demi_close(c.qd);  // its pending operations complete as cancelled
}

bool Server::push(Conn& c, const demi_sgarray_t* sga) {
    demi_qtoken_t qt;
    if (demi_push(&qt, c.qd, sga) != 0) return false;
    ++c.pushes;
    return true;
}

void Server::send(Conn& c, const Response& r) {
    ++m_stats.requests;
    ++m_stats.core[0].requests;
    ++m_stats.by_class[r.status / 100 < 6 ? r.status / 100 : 5];
    if (r.close) c.closing = true;
    demi_sgarray_t head = demi_sgaalloc(r.head_len);
    bool ok = r.head_len > 0 && head.sga_numsegs == 1;
    if (ok) {
        memcpy(head.sga_segs[0].sgaseg_buf, m_out, r.head_len);
        ok = push(c, &head);
    }
    if (head.sga_numsegs == 1) (void)demi_sgafree(&head);  // deferred until the push is done
    uint64_t sent = ok ? r.head_len : 0;
    if (ok && r.file != nullptr) {
        // The body: the file's own buffers, pushed by reference, never
        // copied or freed (they live as long as the server).
        const FileChunks& fc = m_files.chunks(m_site, r.file);
        for (uint32_t i = 0; ok && i < fc.count; ++i) {
            ok = push(c, &fc.chunk[i]);
            if (ok) {
                sent += fc.chunk[i].sga_segs[0].sgaseg_len;
                m_stats.body_bytes_zero_copy += fc.chunk[i].sga_segs[0].sgaseg_len;
            }
        }
    }
    m_stats.bytes_sent += sent;
    m_stats.core[0].bytes_sent += sent;
    if (!ok) c.closing = true;  // a response cut short: the connection cannot go on
}

// Answers every complete request in buf[0, len), in order, until it needs
// more bytes, the push budget is spent or the connection is closing; returns
// the bytes it is done with (requests answered, body bytes dropped). The
// parser's scan position stays relative to buf[0].
size_t Server::answer(Conn& c, const char* buf, size_t len) {
    size_t used = 0;
    while (!c.closing && c.pushes < kMaxPushes) {
        if (c.skip > 0 && used < len) {
            const size_t drop = c.skip < len - used ? static_cast<size_t>(c.skip) : len - used;
            used += drop;
            c.skip -= drop;
            c.parser.reset();
            continue;
        }
        if (used == len) break;
        Request req;
        const ParseResult pr = c.parser.parse(buf + used, len - used, &req);
        if (pr.status == ParseStatus::NeedMore) break;
        if (pr.status == ParseStatus::Error) {
            send(c, error_response(pr.error, m_out, sizeof m_out));
            break;
        }
        send(c, respond(req, m_site, m_heads, m_stats, m_out, sizeof m_out));
        // The request's bytes go (the views into them die here); its body,
        // if any, is dropped as it comes.
        used += pr.head_bytes;
        c.skip = req.content_length;
        c.parser.reset();
        set_deadline(c, now_ms() + m_cfg.idle_ms);
    }
    return used;
}

// Answers what the input buffer holds and keeps the rest at its front.
void Server::process(Conn& c) {
    const size_t used = answer(c, c.in, c.len);
    if (used == 0) return;
    if (used < c.len) memmove(c.in, c.in + used, c.len - used);
    c.len -= used;
}

// Answers the held sga's bytes, appending to the input buffer only what
// cannot be answered from the sga itself: with nothing buffered, requests
// are parsed where the pop left them, and only an unfinished tail is
// copied. Keeps what is left while the push budget is spent.
void Server::feed(Conn& c) {
    const auto* bytes = static_cast<const char*>(c.held.sga_segs[0].sgaseg_buf);
    const uint32_t total = c.held.sga_segs[0].sgaseg_len;
    for (;;) {
        process(c);  // first: what an earlier feed left unanswered
        if (c.closing || c.pushes >= kMaxPushes) return;  // the rest waits (close frees it)
        if (c.held_off == total) break;
        if (c.len == 0 && c.skip == 0) set_deadline(c, now_ms() + m_cfg.idle_ms);  // a request starts
        if (c.len == 0) {
            c.held_off += static_cast<uint32_t>(answer(c, bytes + c.held_off, total - c.held_off));
            if (c.closing || c.pushes >= kMaxPushes) return;
            if (c.held_off == total) break;
            // An unfinished request: its bytes go to the buffer (the
            // parser's scan position carries over: same bytes, same offsets).
        }
        size_t take = total - c.held_off;
        if (take > kInBuf - c.len) take = kInBuf - c.len;
        if (take == 0) {  // cannot happen: the parser refuses a full buffer
            send(c, error_response(431, m_out, sizeof m_out));
            return;
        }
        memcpy(c.in + c.len, bytes + c.held_off, take);
        c.len += take;
        c.held_off += static_cast<uint32_t>(take);
    }
    (void)demi_sgafree(&c.held);
    c.has_held = false;
}

// After a pop or a finished push: go on with held bytes, then pop again if
// there is room.
void Server::resume(Conn& c) {
    if (!c.open) return;
    if (c.closing) {
        if (c.pushes == 0) close_now(c);
        return;
    }
    if (c.has_held) feed(c);
    else process(c);
    if (c.closing) {
        if (c.pushes == 0) close_now(c);
        return;
    }
    if (!c.has_held && !c.popping && c.pushes < kMaxPushes) start_pop(c);
}

void Server::popped(Conn& c, demi_qresult_t& qr) {
    c.popping = false;
    if (qr.qr_opcode != DEMI_OPC_POP) {
        close_now(c);
        return;
    }
    demi_sgarray_t sga = qr.qr_value.sga;
    if (sga.sga_segs[0].sgaseg_len == 0 || c.closing) {  // the client closed, or we are closing
        (void)demi_sgafree(&sga);
        if (c.pushes == 0) close_now(c);
        else c.closing = true;
        return;
    }
    c.held = sga;
    c.held_off = 0;
    c.has_held = true;
    resume(c);
}

void Server::pushed(Conn& c, const demi_qresult_t& qr) {
    --c.pushes;
    if (qr.qr_opcode != DEMI_OPC_PUSH) {
        close_now(c);
        return;
    }
    set_deadline(c, now_ms() + m_cfg.idle_ms);  // the client is reading
    if (!c.popping) resume(c);
    else if (c.closing && c.pushes == 0) close_now(c);
}

void Server::expire(uint64_t now) {
    m_wake = UINT64_MAX;  // recomputed below (set_deadline lowers it)
    for (Conn& c : m_conns) {
        if (!c.open || now < c.deadline) continue;
        ++m_stats.timeouts;
        if ((c.len > 0 || c.skip > 0 || c.has_held) && c.pushes == 0 && !c.closing) {
            send(c, error_response(408, m_out, sizeof m_out));  // a request under way
            c.closing = true;
            set_deadline(c, now + m_cfg.idle_ms);  // and if even that is not read
        } else {
            close_now(c);  // idle, or not reading what we send
        }
    }
    for (const Conn& c : m_conns) {
        if (c.open && c.deadline < m_wake) m_wake = c.deadline;
    }
}

int Server::run() {
    if (demi_socket(&m_listen, AF_INET, SOCK_STREAM, 0) != 0) return 1;
    sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(m_cfg.port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (demi_bind(m_listen, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        demi_listen(m_listen, 128) != 0) {
        say("httpd: cannot listen\n");
        return 1;
    }
    if (!start_accept()) return 1;
    say("httpd: serving\n");
    static demi_qresult_t results[kBatch];
    for (;;) {
        // An accept the libOS could not take (all its operations in use)
        // is tried again as operations complete.
        if (!m_accepting) (void)start_accept();
        const uint64_t next = m_wake;
        const uint64_t now = now_ms();
        timespec ts{};
        if (next != UINT64_MAX && next > now) {
            const uint64_t ms = next - now;
            ts.tv_sec = static_cast<time_t>(ms / 1000);
            ts.tv_nsec = static_cast<long>(ms % 1000) * 1'000'000;
        }
        int got = 0;
        const int e = demi_wait_next_n(results, kBatch, &got, next == UINT64_MAX ? nullptr : &ts);
        if (e == ETIMEDOUT) {
            expire(now_ms());
            continue;
        }
        if (e != 0) {
            say("httpd: wait failed\n");
            return 1;
        }
        for (int i = 0; i < got; ++i) handle(results[i]);
        if (now_ms() >= next) expire(now_ms());
    }
}

void Server::handle(demi_qresult_t& qr) {
    const int qd = qr.qr_qd;
    if (qd == m_listen) {
        m_accepting = false;
        if (qr.qr_opcode == DEMI_OPC_ACCEPT) accepted(qr.qr_value.ares.qd);
        (void)start_accept();
        return;
    }
    Conn* c = qd >= 0 && qd < kMaxQds ? m_by_qd[qd] : nullptr;
    if (c == nullptr) {  // a closed connection's leftovers
        if (qr.qr_opcode == DEMI_OPC_POP) (void)demi_sgafree(&qr.qr_value.sga);
    } else if (c->popping && qr.qr_qt == c->pop_qt) {
        popped(*c, qr);
    } else {
        pushed(*c, qr);
    }
}

}  // namespace

int serve(const Site& site, const FileBuffers& files, const Config& config) {
    // Big (the connection buffers): static storage, not the stack.
    alignas(Server) static unsigned char storage[sizeof(Server)];
    Server* server = new (storage) Server(site, files, config);
    return server->run();
}

}  // namespace httpd
