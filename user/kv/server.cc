// The event loop: accept, pop, push, the log's commits, timers.
#include <arpa/inet.h>
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>

#include "libos/pdpix/ringlet_demi.h"

#include "user/kv/alloc.h"
#include "user/kv/console.h"
#include "user/kv/server.h"

namespace kv {

namespace {

constexpr int kMaxQds = 1024;
constexpr int kMaxConns = 256;
constexpr int kMaxPushes = 8;      // pushes in flight per connection
constexpr size_t kMaxChunks = 64;  // reply chunks queued before input is paused
constexpr int64_t kCronMs = 100;   // periodic expiry
constexpr size_t kExpireBuckets = 256;
constexpr int kBatch = 64;         // results taken per wait

// No token list: the loop takes whatever completed (demi_wait_next_n, O(1)
// per result in the libOS) and routes each result by its queue and token -
// a wait_any over every outstanding token cost ~30 instructions per token
// per wake-up, ~3,000 per request with 50 clients. A result for a queue we
// closed (its operations complete as ECANCELED) is recognised because the
// connection is no longer open: the libOS hands results out in completion
// order, and a close's cancellations complete before any later accept could
// reuse the qd.
struct Loop {
    const ServerConfig* cfg;
    Store* store;
    Stats* stats;
    Log* log;
    int lqd = -1;
    Conn conns[kMaxQds];
    uint64_t seen_durable = 0;
    uint64_t seen_failed = 0;
};

Loop g_loop;

void close_conn(Loop& l, Conn& c) {
    if (!c.open) return;
    c.open = false;
    while (OutChunk* k = c.out.pop_front()) free_chunk(k);
    c.out = OutList{};
    mem_free(c.in);
    c.in = nullptr;
    c.in_len = c.in_cap = 0;
    --l.stats->connections_now;
    (void)demi_close(c.qd);  // its pending operations complete as ECANCELED
}

bool start_pop(Conn& c) {
    if (demi_pop(&c.pop_qt, c.qd) != 0) return false;
    c.popping = true;
    return true;
}

// Pushes the chunks at the head whose log position is durable, in order.
void release(Loop& l, Conn& c) {
    const uint64_t durable = l.log != nullptr ? l.log->durable_lsn() : UINT64_MAX;
    while (c.open && c.out.head != nullptr && c.pushes < kMaxPushes) {
        OutChunk* k = c.out.head;
        if (!k->stamped || k->lsn > durable) break;
        c.out.pop_front();
        k->sga.sga_segs[0].sgaseg_len = k->used;
        demi_qtoken_t qt;
        const bool ok = demi_push(&qt, c.qd, &k->sga) == 0;
        free_chunk(k);  // the libOS holds the buffer until the push is done
        if (!ok) {
            close_conn(l, c);
            return;
        }
        ++c.pushes;
    }
}

// Replaces the replies held for a failed commit with errors, in place.
void fail_held(Loop& l, Conn& c, uint64_t failed, uint64_t durable) {
    uint32_t n = 0;
    OutList rest;
    while (OutChunk* k = c.out.pop_front()) {
        if (k->stamped && k->lsn > durable && k->lsn <= failed) {
            n += k->replies;
            free_chunk(k);
        } else {
            rest.push_back(k);
        }
    }
    OutList errors;
    ChunkReply out(errors);
    for (uint32_t i = 0; i < n; ++i) out.error("ERR disk error: the write could not be made durable");
    for (OutChunk* k = errors.head; k != nullptr; k = k->next) k->stamped = true;
    if (errors.failed) return close_conn(l, c);
    // errors first, then what was not affected
    c.out = errors;
    while (OutChunk* k = rest.pop_front()) c.out.push_back(k);
}

// After input or output progress: send what may go, read more or close.
void pump(Loop& l, Conn& c) {
    if (!c.open) return;
    release(l, c);
    if (!c.open) return;
    if (c.closing) {
        if (c.out.head == nullptr && c.pushes == 0) close_conn(l, c);
        return;
    }
    if (!c.popping && c.out.count < kMaxChunks && !start_pop(c)) close_conn(l, c);
}

void on_log_progress(Loop& l) {
    if (l.log == nullptr) return;
    const uint64_t failed = l.log->failed_lsn(), durable = l.log->durable_lsn();
    if (failed == l.seen_failed && durable == l.seen_durable) return;
    for (Conn& c : l.conns) {
        if (!c.open || c.out.head == nullptr) continue;
        if (failed != l.seen_failed) fail_held(l, c, failed, l.seen_durable);
        pump(l, c);
    }
    l.seen_failed = failed;
    l.seen_durable = durable;
}

void on_accept(Loop& l, const demi_qresult_t& qr) {
    if (qr.qr_opcode == DEMI_OPC_ACCEPT) {
        const int qd = qr.qr_value.ares.qd;
        if (qd >= 0 && qd < kMaxQds && l.stats->connections_now < static_cast<uint64_t>(kMaxConns)) {
            Conn& c = l.conns[qd];
            c = Conn{};
            c.open = true;
            c.qd = qd;
            ++l.stats->connections_total;
            ++l.stats->connections_now;
            if (!start_pop(c)) close_conn(l, c);
        } else {
            (void)demi_close(qd);
        }
    }
    demi_qtoken_t qt;
    if (demi_accept(&qt, l.lqd) != 0) Line() << "kv: cannot accept more";
}

void on_pop(Loop& l, Conn& c, demi_qresult_t& qr) {
    c.popping = false;
    if (qr.qr_opcode != DEMI_OPC_POP) return close_conn(l, c);
    demi_sgarray_t sga = qr.qr_value.sga;
    const uint32_t len = sga.sga_segs[0].sgaseg_len;
    if (len == 0) {  // the client closed its side: answer what it sent, then close
        (void)demi_sgafree(&sga);
        c.closing = true;
        return pump(l, c);
    }
    const bool ok = process_input(c, static_cast<const uint8_t*>(sga.sga_segs[0].sgaseg_buf), len, *l.cfg, *l.store,
                                  *l.stats, l.log);
    (void)demi_sgafree(&sga);
    if (!ok) return close_conn(l, c);
    return pump(l, c);
}

// The log's storage operations are few (its commit in flight): found by token.
bool on_log_result(Loop& l, const demi_qresult_t& qr) {
    if (l.log == nullptr) return false;
    demi_qtoken_t qts[16];
    const int n = l.log->tokens(qts, 16);
    for (int i = 0; i < n; ++i) {
        if (qts[i] != qr.qr_qt) continue;
        if (l.log->complete(i, qr)) on_log_progress(l);
        return true;
    }
    return false;
}

void handle(Loop& l, demi_qresult_t& qr) {
    const int qd = qr.qr_qd;
    if (qd == l.lqd) return on_accept(l, qr);
    Conn* c = qd >= 0 && qd < kMaxQds ? &l.conns[qd] : nullptr;
    if (c == nullptr || !c->open) {  // cancelled by our own close
        if (qr.qr_opcode == DEMI_OPC_POP) (void)demi_sgafree(&qr.qr_value.sga);
        return;
    }
    if (c->popping && qr.qr_qt == c->pop_qt) return on_pop(l, *c, qr);
    --c->pushes;
    if (qr.qr_opcode != DEMI_OPC_PUSH) return close_conn(l, *c);
    return pump(l, *c);
}

// INFO's network counters from the libOS (kv_core cannot call it).
void refresh_net(Stats& s) {
    struct ringlet_demi_stats dp {};
    if (ringlet_demi_stats(&dp) != 0) return;
    s.tcp_syn_dropped = dp.tcp_syn_dropped;
    s.tcp_half_open_evicted = dp.tcp_half_open_evicted;
}

int open_listener(uint16_t port) {
    int qd = -1;
    if (demi_socket(&qd, AF_INET, SOCK_STREAM, 0) != 0) return -1;
    sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (demi_bind(qd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return -1;
    if (demi_listen(qd, 128) != 0) return -1;
    return qd;
}

}  // namespace

int serve(const ServerConfig& cfg, Store& store, Stats& stats, Log* log, int64_t (*now_ms)()) {
    Loop& l = g_loop;
    l.cfg = &cfg;
    l.store = &store;
    l.stats = &stats;
    l.log = log;
    stats.refresh_net = refresh_net;
    if (log != nullptr) {
        l.seen_durable = log->durable_lsn();
        l.seen_failed = log->failed_lsn();
    }
    l.lqd = open_listener(cfg.port);
    demi_qtoken_t qt;
    if (l.lqd < 0 || demi_accept(&qt, l.lqd) != 0) {
        Line() << "kv: cannot listen on TCP port " << static_cast<unsigned>(cfg.port);
        return 1;
    }
    Line() << "kv: serving RESP on TCP port " << static_cast<unsigned>(cfg.port);
    static demi_qresult_t results[kBatch];
    int64_t last_cron = now_ms();
    for (;;) {
        store.set_now(now_ms());
        if (store.now() - last_cron >= kCronMs) {
            last_cron = store.now();
            store.expire_cycle(kExpireBuckets);
            if (log != nullptr) log->maybe_compact();
            on_log_progress(l);
        }
        if (log != nullptr) log->commit();
        int got = 0;
        const timespec tick{0, kCronMs * 1'000'000};
        const int e = demi_wait_next_n(results, kBatch, &got, &tick);
        if (e == ETIMEDOUT) continue;
        if (e != 0) {
            Line() << "kv: wait failed (errno " << e << ")";
            return 1;
        }
        // The log's results first: a command below may compact, which waits
        // on the log's outstanding tokens itself - one of them must not be
        // sitting in this batch, already taken from the libOS.
        bool any_log = false;
        for (int i = 0; i < got; ++i) {
            if (on_log_result(l, results[i])) {
                results[i].qr_qd = -1;
                any_log = true;
            }
        }
        if (any_log) on_log_progress(l);
        for (int i = 0; i < got; ++i) {
            if (results[i].qr_qd < 0) continue;
            handle(l, results[i]);
            on_log_progress(l);  // a compaction inside a command may have made things durable
        }
    }
}

}  // namespace kv
