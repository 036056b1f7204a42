// dial: a client on every hart the app is given (init=dial:...@all). Each
// core opens its own flows out to one server - TCP connections and UDP
// exchanges with an echo server - and checks every byte that comes back.
// A flow a core opens is answered on that core only if the libOS chose its
// local port so that the steering (core 0's software steering over a
// single-queue NIC, or the device's RSS) brings the replies back to it
// (net/local_ports.h): otherwise the SYN-ACK or the reply lands on another
// core's stack and the exchange fails or times out.
//
//   dial --host A.B.C.D [--tcp PORT] [--udp PORT] [--rounds N] [--restart]
//
// Each core prints "dial: core K: ok, N TCP connections and M UDP
// exchanges checked" (or a FAILED line and the app ends); core 0 then
// prints "dial: every core ok" and the app exits 0.
//
// --restart closes and reopens libOS instances while the others run
// (ringlet_demi_shutdown; libos/backend/close_order.h): each other core
// closes after its rounds, opens again, dials its rounds once more and
// closes for good ("dial: core K: closed, back: ok, ..."), or - a core on
// its own queue pair (RSS), which may not close - reports the refusal
// ("dial: core K: close refused: EBUSY"). Core 0 tries to close while
// the others are up, which must be refused, dials a round to show its
// libOS is intact, and once every core is done closes last if it may and
// opens again (alone on the NIC: dials its rounds once more).
#include <arpa/inet.h>
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>
#include <string.h>

#include <atomic>

#include "libos/backend/core_mesh.h"
#include "libos/pdpix/ringlet_demi.h"
#include "user/rt/cores.h"
#include "user/rt/parse_num.h"
#include "user/rt/syscall.h"

namespace {

using ringlet::user::parse_num;
using ringlet::user::printf;

constexpr unsigned kMaxCores = 4;
// Message sizes per round: one segment, several, and many (the window).
constexpr uint32_t kSizes[] = {1, 1000, 3000, 20000};
constexpr uint32_t kMaxUdp = 1400;

sockaddr_in g_server{};
unsigned long g_tcp_port = 0, g_udp_port = 0, g_rounds = 4;
int g_argc = 0;
char** g_argv = nullptr;
std::atomic<unsigned> g_done{0};
unsigned g_cores = 1;
bool g_restart = false;
// --restart: cores whose libOS is up, and core 0's refused close done
// (the others close only after it, so it meets them up).
std::atomic<unsigned> g_started{0};
std::atomic<bool> g_core0_checked{false};

uint8_t pattern(unsigned core, unsigned round, uint32_t i) {
    return static_cast<uint8_t>(core * 71 + round * 13 + i * 7 + (i >> 8));
}

timespec seconds(long s) { return timespec{s, 0}; }

// Waits for qt with a deadline; the result, or false (printed) on error.
bool wait_for(demi_qtoken_t qt, demi_qresult_t* qr, unsigned core, const char* what) {
    const timespec limit = seconds(10);
    const int e = demi_wait(qr, qt, &limit);
    if (e != 0) {
        printf("dial: core %u: FAILED: %s: wait error %d\n", core, what, e);
        return false;
    }
    if (qr->qr_opcode == DEMI_OPC_FAILED) {
        printf("dial: core %u: FAILED: %s: error %d\n", core, what, static_cast<int>(qr->qr_ret));
        return false;
    }
    return true;
}

sockaddr_in server(unsigned long port) {
    sockaddr_in a = g_server;
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
}

// One connection: connect, push `len` patterned bytes, pop until they are
// all back, compare, close.
bool tcp_round(unsigned core, unsigned round, uint32_t len) {
    int qd = -1;
    if (demi_socket(&qd, AF_INET, SOCK_STREAM, 0) != 0) {
        printf("dial: core %u: FAILED: socket\n", core);
        return false;
    }
    const sockaddr_in to = server(g_tcp_port);
    demi_qtoken_t qt;
    alignas(8) demi_qresult_t qr;
    bool ok = demi_connect(&qt, qd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 &&
              wait_for(qt, &qr, core, "connect");
    if (ok) {
        demi_sgarray_t sga = demi_sgaalloc(len);
        ok = sga.sga_numsegs == 1;
        if (ok) {
            auto* p = static_cast<uint8_t*>(sga.sga_segs[0].sgaseg_buf);
            for (uint32_t i = 0; i < len; ++i) p[i] = pattern(core, round, i);
            ok = demi_push(&qt, qd, &sga) == 0 && wait_for(qt, &qr, core, "push");
            (void)demi_sgafree(&sga);
        }
    }
    uint32_t got = 0;
    while (ok && got < len) {
        ok = demi_pop(&qt, qd) == 0 && wait_for(qt, &qr, core, "pop");
        if (!ok) break;
        demi_sgarray_t in = qr.qr_value.sga;
        for (uint32_t s = 0; s < in.sga_numsegs && ok; ++s) {
            const auto* p = static_cast<const uint8_t*>(in.sga_segs[s].sgaseg_buf);
            const uint32_t n = in.sga_segs[s].sgaseg_len;
            if (n == 0 || got + n > len) {
                printf("dial: core %u: FAILED: %u bytes back after %u of %u\n", core, n, got, len);
                ok = false;
            }
            for (uint32_t i = 0; ok && i < n; ++i) {
                if (p[i] != pattern(core, round, got + i)) {
                    printf("dial: core %u: FAILED: byte %u differs\n", core, got + i);
                    ok = false;
                }
            }
            got += n;
        }
        (void)demi_sgafree(&in);
    }
    (void)demi_close(qd);
    return ok;
}

// One datagram out from a fresh socket and its echo back, checked; a lost
// datagram is sent again (twice at most).
bool udp_round(unsigned core, unsigned round) {
    int qd = -1;
    if (demi_socket(&qd, AF_INET, SOCK_DGRAM, 0) != 0) {
        printf("dial: core %u: FAILED: UDP socket\n", core);
        return false;
    }
    const uint32_t len = 16 + (round * 331 + core * 97) % (kMaxUdp - 16);
    const sockaddr_in to = server(g_udp_port);
    bool ok = false;
    demi_qtoken_t pop;
    if (demi_pop(&pop, qd) != 0) return false;
    for (int attempt = 0; attempt < 3 && !ok; ++attempt) {
        demi_sgarray_t sga = demi_sgaalloc(len);
        if (sga.sga_numsegs != 1) break;
        auto* p = static_cast<uint8_t*>(sga.sga_segs[0].sgaseg_buf);
        for (uint32_t i = 0; i < len; ++i) p[i] = pattern(core, round, i);
        demi_qtoken_t qt;
        alignas(8) demi_qresult_t qr;
        const bool sent = demi_pushto(&qt, qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 &&
                          wait_for(qt, &qr, core, "UDP push");
        (void)demi_sgafree(&sga);
        if (!sent) break;
        const timespec limit = seconds(2);
        if (demi_wait(&qr, pop, &limit) != 0) continue;  // lost: send again, same pop
        if (qr.qr_opcode != DEMI_OPC_POP) break;
        demi_sgarray_t in = qr.qr_value.sga;
        const auto* q = static_cast<const uint8_t*>(in.sga_segs[0].sgaseg_buf);
        ok = in.sga_numsegs == 1 && in.sga_segs[0].sgaseg_len == len;
        for (uint32_t i = 0; ok && i < len; ++i) ok = q[i] == pattern(core, round, i);
        (void)demi_sgafree(&in);
        if (!ok) printf("dial: core %u: FAILED: UDP echo differs\n", core);
        break;
    }
    if (!ok) printf("dial: core %u: FAILED: UDP exchange %u\n", core, round);
    (void)demi_close(qd);
    return ok;
}

bool init_libos() {
    demi_args args;
    memset(&args, 0, sizeof args);
    args.argc = g_argc;
    args.argv = g_argv;
    return demi_init(&args) == 0;
}

// `rounds` rounds of this core's flows from round `first`; counts them.
bool dial_rounds(unsigned core, unsigned first, unsigned rounds, unsigned* tcp, unsigned* udp) {
    for (unsigned round = first; round < first + rounds; ++round) {
        if (g_tcp_port != 0) {
            if (!tcp_round(core, round, kSizes[round % (sizeof kSizes / sizeof kSizes[0])])) return false;
            ++*tcp;
        }
        if (g_udp_port != 0) {
            if (!udp_round(core, round)) return false;
            ++*udp;
        }
    }
    return true;
}

// Sleeps without the libOS (which may be closed): the kernel's wait.
void sleep_ms(uint64_t ms) {
    const uint64_t deadline = ringlet::user::now() + ringlet::user::timebase_hz() / 1000 * ms;
    while (ringlet::user::now() < deadline) (void)ringlet::user::syscall(ringlet::kSysWait, 0, deadline);
}

[[noreturn]] void sleep_forever() {
    for (;;) sleep_ms(1000);
}

// --restart on another core, after its rounds: close, open again, dial
// again, close for good and idle (returning would end the app); or, if
// the close is refused, say so and go on as without --restart. False:
// FAILED (printed).
bool restart_other(unsigned core) {
    while (!g_core0_checked.load(std::memory_order_acquire)) sleep_ms(10);
    const int e = ringlet_demi_shutdown();
    if (e == EBUSY) {
        printf("dial: core %u: close refused: EBUSY\n", core);
        return true;
    }
    if (e != 0) {
        printf("dial: core %u: FAILED: close: %d\n", core, e);
        return false;
    }
    // Reopening takes back this core's frames from core 0 first
    // (CoreMesh::reclaim), which may need a moment.
    bool back = false;
    for (int attempt = 0; attempt < 50 && !back; ++attempt) {
        back = init_libos();
        if (!back) sleep_ms(20);
    }
    if (!back) {
        printf("dial: core %u: FAILED: demi_init after a close\n", core);
        return false;
    }
    unsigned tcp = 0, udp = 0;
    if (!dial_rounds(core, g_rounds, g_rounds, &tcp, &udp)) return false;
    const int again = ringlet_demi_shutdown();
    if (again != 0) {
        printf("dial: core %u: FAILED: second close: %d\n", core, again);
        return false;
    }
    printf("dial: core %u: closed, back: ok, %u TCP connections and %u UDP exchanges checked, closed\n", core, tcp,
           udp);
    g_done.fetch_add(1, std::memory_order_acq_rel);
    sleep_forever();
}

// --restart on core 0 while the other cores are up: its close must be
// refused, and its libOS must still work after (one more round).
bool refused_while_others_up() {
    for (int i = 0; i < 500 && g_started.load(std::memory_order_acquire) < g_cores; ++i) sleep_ms(10);
    const int e = ringlet_demi_shutdown();
    if (e != EBUSY) {
        printf("dial: core 0: FAILED: close while other cores are up gave %d, not EBUSY\n", e);
        return false;
    }
    unsigned tcp = 0, udp = 0;
    if (!dial_rounds(0, g_rounds, 1, &tcp, &udp)) return false;
    printf("dial: core 0: close refused while other cores are up (EBUSY); still dials: ok\n");
    g_core0_checked.store(true, std::memory_order_release);
    return true;
}

// --restart on core 0 once every core is done: closes if no other core is
// up (they closed), then opens again - which works when it was alone on
// the NIC and is refused when cores shared it; with other cores on their
// own pairs, the close is still refused.
bool close_last() {
    const int e = ringlet_demi_shutdown();
    if (e == EBUSY) {
        printf("dial: core 0: close refused: EBUSY\n");
        return true;
    }
    if (e != 0) {
        printf("dial: core 0: FAILED: last close: %d\n", e);
        return false;
    }
    if (!init_libos()) {
        printf("dial: core 0: closed last; opening again refused\n");
        return true;
    }
    // Alone on the NIC: it was reset at the close and is set up again now.
    unsigned tcp = 0, udp = 0;
    if (!dial_rounds(0, 2 * g_rounds, g_rounds, &tcp, &udp)) return false;
    printf("dial: core 0: closed last, opened again: ok, %u TCP connections and %u UDP exchanges checked\n", tcp, udp);
    return true;
}

// One core: its own libOS, then its rounds. A core that fails ends the app;
// one that is done waits (a pop that never completes) until core 0 has
// seen every core finish and ends the app.
int run(void* core_arg) {
    const auto core = static_cast<unsigned>(reinterpret_cast<unsigned long>(core_arg));
    if (!init_libos()) {
        printf("dial: core %u: FAILED: demi_init\n", core);
        return 1;
    }
    if (core == 0) g_cores = ringlet::user::start_placed_cores(&run, kMaxCores, "dial");
    g_started.fetch_add(1, std::memory_order_acq_rel);
    unsigned tcp = 0, udp = 0;
    if (!dial_rounds(core, 0, g_rounds, &tcp, &udp)) return 1;
    printf("dial: core %u: ok, %u TCP connections and %u UDP exchanges checked\n", core, tcp, udp);
    ringlet::backend::MeshCoreStats s;
    if (ringlet_core_mesh_stats(core, &s) == 0) {
        printf("dial: mesh: core %u kept=%lu handed=%lu received=%lu tx_handed=%lu tx_sent_for_others=%lu "
               "tx_copied_bytes=%lu\n",
               core, s.rx_kept, s.rx_handed, s.rx_forwarded, s.tx_handed, s.tx_sent, s.tx_copied_bytes);
    }
    if (g_restart && core != 0 && !restart_other(core)) return 1;
    if (g_restart && core == 0 && g_cores > 1 && !refused_while_others_up()) return 1;
    g_done.fetch_add(1, std::memory_order_acq_rel);
    // Done: wait on a pop that never completes, so this core's stack keeps
    // running (core 0's steers the others' frames) - forever on the other
    // cores, in 50 ms steps on core 0 until every core is done.
    int idle = -1;
    demi_qtoken_t never;
    if (demi_socket(&idle, AF_INET, SOCK_DGRAM, 0) != 0 || demi_pop(&never, idle) != 0) return 1;
    alignas(8) demi_qresult_t qr;
    if (core != 0) {
        (void)demi_wait(&qr, never, nullptr);
        return 0;
    }
    const timespec tick{0, 50 * 1000 * 1000};
    for (int i = 0; i < 600 && g_done.load(std::memory_order_acquire) < g_cores; ++i) (void)demi_wait(&qr, never, &tick);
    const bool all = g_done.load(std::memory_order_acquire) >= g_cores;
    printf(all ? "dial: every core ok\n" : "dial: FAILED: not every core finished\n");
    if (all && g_restart) return close_last() ? 0 : 1;
    return all ? 0 : 1;
}

// "a.b.c.d" into network byte order.
bool parse_ipv4(const char* s, uint32_t* out) {
    uint8_t parts[4];
    for (int k = 0; k < 4; ++k) {
        unsigned v = 0;
        int digits = 0;
        for (; *s >= '0' && *s <= '9' && digits < 4; ++s, ++digits) v = v * 10 + static_cast<unsigned>(*s - '0');
        if (digits == 0 || v > 255 || *s != (k == 3 ? '\0' : '.')) return false;
        if (k < 3) ++s;
        parts[k] = static_cast<uint8_t>(v);
    }
    memcpy(out, parts, 4);
    return true;
}

}  // namespace

int main(int argc, char* argv[]) {
    g_server.sin_family = AF_INET;
    bool have_host = false;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            have_host = parse_ipv4(argv[++i], &g_server.sin_addr.s_addr);
            if (!have_host) return 2;
        } else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_tcp_port) || g_tcp_port > 65535) return 2;
        } else if (strcmp(argv[i], "--udp") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_udp_port) || g_udp_port > 65535) return 2;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &g_rounds)) return 2;
        } else if (strcmp(argv[i], "--restart") == 0) {
            g_restart = true;
        } else if (strncmp(argv[i], "--backend=", 10) != 0) {
            ringlet::user::printf("usage: dial --host A.B.C.D [--tcp PORT] [--udp PORT] [--rounds N] [--restart]\n");
            return 2;
        }
    }
    if (!have_host || (g_tcp_port == 0 && g_udp_port == 0)) {
        ringlet::user::printf("dial: give --host and --tcp and/or --udp\n");
        return 2;
    }
    g_argc = argc;
    g_argv = argv;
    return run(nullptr);
}
