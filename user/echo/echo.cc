// echo: a UDP and TCP echo server written once against PDPIX (demi_* only),
// so the same source runs on Linux (loopback or linux backend) and, later,
// on Ringlet. One event loop: every outstanding operation's qtoken sits in
// one array handed to demi_wait_any.
//
//   echo [--udp PORT] [--tcp PORT] [--close-after N] [--stats N] [--core-stats N]
//        [--fault-after N] [--nic-fault-after N] [--spin-after N] [--work-us N] [--backend=NAME]
//
// --close-after N makes the server close each TCP connection after echoing N
// messages (the "server closes first" case). On Ringlet it serves on every
// hart the boot line gives it (init=echo:...@all), one libOS per core. The
// reports and test hooks (--stats, --core-stats, the --*-after faults) are
// in hooks.h. Libc use is limited to string helpers, so the app stays easy
// to build for riscv64.
#include <arpa/inet.h>
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "libos/pdpix/ringlet_demi.h"
#include "user/echo/hooks.h"
#include "user/rt/parse_num.h"
#if RINGLET_FREESTANDING
#include "user/rt/cores.h"
#include "user/rt/syscall.h"
#endif

namespace {

using ringlet::user::parse_num;

constexpr int kMaxTokens = 1024;
constexpr int kMaxQds = 1024;

enum class Kind { UdpPop, Push, Accept, TcpPop };

// What an outstanding token is for; its token is at the same index of
// EchoCore::qts.
struct Pending {
    Kind kind;
    int qd;
    unsigned long gen;  // the connection's, so a reused qd's stale results are known
};

// A TCP connection. One push at a time: a popped message waits in `held`
// while the previous echo is still being pushed, and no pop is outstanding
// then, so a client that sends faster than it reads is held back by TCP's
// window instead of filling the DMA heap, and the echo keeps stream order.
struct Conn {
    bool open = false;
    bool pushing = false;
    bool has_held = false;
    bool eof = false;  // the client closed; close once the echo is out
    demi_sgarray_t held{};
    unsigned long echoed = 0;
    unsigned long gen = 0;  // bumped per accepted connection on this qd
};

// One core's server state. On Ringlet echo runs on every hart it is given
// (init=echo@all): each core has its own libOS (demi_init on that core),
// its own listening queues on the same ports and its own connections - a
// flow's frames reach the core its hash names, and its connection lives
// and dies there. qds are per core (qd / 1024 names the core), so tables
// are indexed by qd % kMaxQds.
// The scalars come first: the per-request path reaches them in one
// instruction, not past the tables. The tokens are kept in their own array,
// the very one handed to demi_wait_any, so the loop copies nothing.
struct EchoCore {
    int npending = 0;
    unsigned core = 0;
    unsigned long served = 0;  // UDP datagrams and TCP messages echoed
    demi_qtoken_t qts[kMaxTokens];
    Pending pending[kMaxTokens];
    Conn conns[kMaxQds];
};
constexpr unsigned kMaxEchoCores = 4;
EchoCore g_cores[kMaxEchoCores];
thread_local EchoCore* t_echo = &g_cores[0];
unsigned long g_close_after = 0;
unsigned long g_udp_port = 0, g_tcp_port = 0;
int g_argc = 0;
char** g_argv = nullptr;

Conn& conn(int qd) { return t_echo->conns[qd % kMaxQds]; }
bool valid_qd(int qd) { return qd >= 0 && qd < kMaxQds * static_cast<int>(kMaxEchoCores); }

using echo::g_hooks;
using echo::say;
using echo::say_number;

void count_served() {
    const unsigned long n = ++t_echo->served;
    if (n == 1 || g_hooks.core_stats_every != 0) [[unlikely]] echo::report_served(t_echo->core, n);
}

// Whether any per-datagram hook is on: one test per datagram.
bool g_udp_hooks = false;

bool track(demi_qtoken_t qt, Kind k, int qd) {
    EchoCore& e = *t_echo;
    if (e.npending == kMaxTokens) return false;
    const unsigned long gen = valid_qd(qd) ? conn(qd).gen : 0;
    e.qts[e.npending] = qt;
    e.pending[e.npending++] = Pending{k, qd, gen};
    return true;
}

// Forgets outstanding token idx (order does not matter: the last one
// takes its place).
void untrack(int idx) {
    EchoCore& e = *t_echo;
    const int last = --e.npending;
    e.qts[idx] = e.qts[last];
    e.pending[idx] = e.pending[last];
}

// Echoes the datagram a UDP pop on qd returned (qr) and pops the next one
// into the same slot of the token table: the slot stays, only its token
// changes. False if the next pop could not start (the slot is then free).
bool echo_udp(int qd, demi_qresult_t& qr, demi_qtoken_t* slot) {
    if (qr.qr_opcode == DEMI_OPC_POP) {
        // The datagram is sent back from where it lies in the result: the
        // sga and its source address are 8-aligned there (qr is), so the
        // libOS reads both in words.
        demi_sgarray_t* sga = &qr.qr_value.sga;
        const auto* to = reinterpret_cast<const sockaddr*>(reinterpret_cast<const unsigned char*>(sga) +
                                                           offsetof(demi_sgarray_t, sga_addr));
        count_served();
        if (g_udp_hooks) [[unlikely]] echo::udp_hooks(t_echo->core);
        demi_qtoken_t qt;
        if (demi_pushto(&qt, qd, sga, to, sizeof(sockaddr_in)) == 0) {
            // A datagram usually leaves at once (the libOS completes the
            // push inline): take its result now rather than through the
            // event loop; only a push that must wait (ARP) is tracked.
            alignas(8) demi_qresult_t done;  // aligned: the libOS copies results in words
            const timespec now{0, 0};
            if (demi_wait(&done, qt, &now) != 0) (void)track(qt, Kind::Push, qd);
        }
        (void)demi_sgafree(sga);  // deferred by the libOS until the push is done
    }
    return demi_pop(slot, qd) == 0;
}

bool start_pop(int qd, Kind k) {
    demi_qtoken_t qt;
    return demi_pop(&qt, qd) == 0 && track(qt, k, qd);
}

bool start_accept(int qd) {
    demi_qtoken_t qt;
    return demi_accept(&qt, qd) == 0 && track(qt, Kind::Accept, qd);
}

void close_conn(int qd) {
    if (!valid_qd(qd) || !conn(qd).open) return;
    Conn& c = conn(qd);
    c.open = false;
    if (c.has_held) (void)demi_sgafree(&c.held);
    c.has_held = false;
    (void)demi_close(qd);  // its pending pop completes as ECANCELED
}

void echo_tcp(int qd, demi_sgarray_t& sga);

// A push on connection qd completed with qr: the echo is out (or failed).
// Closes the connection when it should end, or echoes the message held
// back while the push was in flight.
void push_done(int qd, const demi_qresult_t& qr) {
    Conn& c = conn(qd);
    c.pushing = false;
    if (qr.qr_opcode != DEMI_OPC_PUSH) {
        close_conn(qd);
    } else if (g_close_after != 0 && ++c.echoed >= g_close_after) {
        close_conn(qd);  // the server closes first
    } else if (c.has_held) {
        c.has_held = false;
        echo_tcp(qd, c.held);
    } else if (c.eof) {
        close_conn(qd);
    }
}

// Echoes `sga` on connection qd and, unless the client closed, pops the next
// message; closes the connection on failure.
// A TCP push completes (Demikernel's semantics, as on Linux a send() that
// returns) once its bytes are in the connection's send queue, not when the
// peer acknowledges them; the libOS then still holds the buffer (zero-copy
// TX: net/tcp_tx_refs.h) until the acknowledgement, and demi_sgafree only
// drops the app's reference. A push that fits the send window completes
// inside demi_push: its result is taken here at once, as echo_udp does,
// instead of costing the event loop another round; only a push that must
// wait (window full) is tracked.
void echo_tcp(int qd, demi_sgarray_t& sga) {
    Conn& c = conn(qd);
    count_served();
    demi_qtoken_t qt;
    if (demi_push(&qt, qd, &sga) != 0) {
        (void)demi_sgafree(&sga);
        close_conn(qd);
        return;
    }
    alignas(8) demi_qresult_t done;  // aligned: the libOS copies results in words
    const timespec now{0, 0};
    const bool finished = demi_wait(&done, qt, &now) == 0;
    const bool pushed = finished || track(qt, Kind::Push, qd);
    (void)demi_sgafree(&sga);  // deferred by the libOS until the push is done
    if (!pushed) {
        close_conn(qd);
        return;
    }
    c.pushing = true;
    if (!c.eof && !start_pop(qd, Kind::TcpPop)) {
        close_conn(qd);
        return;
    }
    // The same order as a tracked push's: the next pop is out, then the
    // push's completion is handled (no pop result can arrive in between:
    // results come only through the event loop).
    if (finished) push_done(qd, done);
}

int open_socket(int type, unsigned long port) {
    int qd = -1;
    if (demi_socket(&qd, AF_INET, type, 0) != 0) return -1;
    sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);  // every interface: QEMU forwards to 10.0.2.15
    if (demi_bind(qd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return -1;
    if (type == SOCK_STREAM && demi_listen(qd, 128) != 0) return -1;
    return qd;
}

// Handles one completed operation `p` with result `qr`.
void handle(const Pending& p, demi_qresult_t& qr) {
    switch (p.kind) {
    case Kind::UdpPop:  // served in place by the event loop (echo_udp)
        return;
    case Kind::Accept:
        if (qr.qr_opcode == DEMI_OPC_ACCEPT) {
            const int c = qr.qr_value.ares.qd;
            if (valid_qd(c)) {
                Conn fresh;
                fresh.open = true;
                fresh.gen = conn(c).gen + 1;
                conn(c) = fresh;
                if (!start_pop(c, Kind::TcpPop)) close_conn(c);
            } else {
                (void)demi_close(c);
            }
        }
        (void)start_accept(p.qd);
        return;
    case Kind::TcpPop: {
        if (!valid_qd(p.qd) || !conn(p.qd).open || conn(p.qd).gen != p.gen) {  // cancelled by our own close
            if (qr.qr_opcode == DEMI_OPC_POP) (void)demi_sgafree(&qr.qr_value.sga);
            return;
        }
        if (qr.qr_opcode != DEMI_OPC_POP) {
            close_conn(p.qd);
            return;
        }
        Conn& c = conn(p.qd);
        alignas(8) demi_sgarray_t sga = qr.qr_value.sga;
        if (sga.sga_segs[0].sgaseg_len == 0) {  // the client closed first
            (void)demi_sgafree(&sga);
            c.eof = true;
            if (!c.pushing) close_conn(p.qd);  // else once the echo is out
            return;
        }
        if (c.pushing) {  // wait for the push in flight: no pop meanwhile
            c.held = sga;
            c.has_held = true;
            return;
        }
        echo_tcp(p.qd, sga);
        return;
    }
    case Kind::Push:
        // UDP, or a connection closed since (its qd may serve another now).
        if (!valid_qd(p.qd) || !conn(p.qd).open || conn(p.qd).gen != p.gen) return;
        push_done(p.qd, qr);
        return;
    }
}

int serve(void* core_arg);

// On Ringlet: one more core on each other hart the app was given (app_harts),
// each serving the same ports through its own libOS. After core 0's
// demi_init: that core owns the devices the others' traffic goes through.
void start_other_cores() {
#if RINGLET_FREESTANDING
    (void)ringlet::user::start_placed_cores(&serve, kMaxEchoCores, "echo");
#endif
}

// One core's server: its own libOS, queues and event loop. Core 0 (main)
// runs it after starting the others, which run it from their first
// instruction on; a core that fails ends the app (on every hart).
int serve(void* core_arg) {
    EchoCore& me = g_cores[reinterpret_cast<unsigned long>(core_arg)];
    me.core = static_cast<unsigned>(reinterpret_cast<unsigned long>(core_arg));
    t_echo = &me;
    demi_args args;
    memset(&args, 0, sizeof args);
    args.argc = g_argc;
    args.argv = g_argv;
    if (const int e = demi_init(&args); e != 0) {
        say("echo: demi_init failed\n");
        return 1;
    }
    if (g_udp_port != 0) {
        const int qd = open_socket(SOCK_DGRAM, g_udp_port);
        if (qd < 0 || !start_pop(qd, Kind::UdpPop)) {
            say("echo: cannot serve UDP\n");
            return 1;
        }
    }
    if (g_tcp_port != 0) {
        const int qd = open_socket(SOCK_STREAM, g_tcp_port);
        if (qd < 0 || !start_accept(qd)) {
            say("echo: cannot serve TCP\n");
            return 1;
        }
    }
    if (me.core == 0) start_other_cores();
    say("echo: core ");
    say_number(me.core);
    say(" ready\n");
    for (;;) {
        alignas(8) demi_qresult_t qr;  // aligned: the libOS copies results in words
        int idx = -1;
        const int e = demi_wait_any(&qr, &idx, me.qts, me.npending, nullptr);
        if (e != 0) {
            say("echo: wait failed\n");
            return 1;
        }
        // A UDP pop keeps its slot: the next pop's token replaces its own.
        if (me.pending[idx].kind == Kind::UdpPop) {
            if (!echo_udp(me.pending[idx].qd, qr, &me.qts[idx])) untrack(idx);
            continue;
        }
        const Pending p = me.pending[idx];
        untrack(idx);
        handle(p, qr);
    }
}
}  // namespace

int main(int argc, char* argv[]) {
    unsigned long udp_port = 0, tcp_port = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--udp") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &udp_port) || udp_port > 65535) return 2;
        } else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &tcp_port) || tcp_port > 65535) return 2;
        } else if (strcmp(argv[i], "--close-after") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_close_after)) return 2;
        } else if (strcmp(argv[i], "--fault-after") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_hooks.fault_after)) return 2;
        } else if (strcmp(argv[i], "--nic-fault-after") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_hooks.nic_fault_after)) return 2;
        } else if (strcmp(argv[i], "--spin-after") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_hooks.spin_after)) return 2;
        } else if (strcmp(argv[i], "--work-us") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_hooks.work_us)) return 2;
        } else if (strcmp(argv[i], "--core-stats") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_hooks.core_stats_every)) return 2;
        } else if (strcmp(argv[i], "--stats") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_hooks.stats_every)) return 2;
        } else if (strncmp(argv[i], "--backend=", 10) != 0) {
            say("usage: echo [--udp PORT] [--tcp PORT] [--close-after N] [--stats N] [--core-stats N] [--fault-after N] "
                "[--nic-fault-after N] [--spin-after N] [--work-us N] [--backend=NAME]\n");
            return 2;
        }
    }
    if (udp_port == 0 && tcp_port == 0) {
        say("echo: give --udp and/or --tcp\n");
        return 2;
    }
    g_udp_port = udp_port;
    g_tcp_port = tcp_port;
    g_argc = argc;
    g_argv = argv;
    g_udp_hooks = g_hooks.per_datagram();
    return serve(nullptr);
}
