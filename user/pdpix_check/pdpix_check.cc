// Runs the libOS in U-mode on Ringlet: PDPIX queues over the loopback
// backend, with waits that block in the kernel's wait syscall. Prints one
// line per check and exits with the number of failed checks.
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "user/rt/syscall.h"

using ringlet::user::printf;

namespace {

int g_failed = 0;

void check(bool ok, const char* what) {
    printf("pdpix_check: %s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) ++g_failed;
}

sockaddr_in address(uint16_t port) {
    sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    demi_args args;
    memset(&args, 0, sizeof args);
    args.argc = argc;
    args.argv = argv;
    check(demi_init(&args) == 0, "demi_init (loopback backend)");

    int server = -1, client = -1;
    check(demi_socket(&server, AF_INET, SOCK_DGRAM, 0) == 0 && demi_socket(&client, AF_INET, SOCK_DGRAM, 0) == 0,
          "two UDP queues");
    sockaddr_in server_addr = address(7000);
    check(demi_bind(server, reinterpret_cast<sockaddr*>(&server_addr), sizeof server_addr) == 0, "bind 7000");

    // A pop with nothing to receive must time out through the kernel's wait.
    demi_qtoken_t pop_qt;
    check(demi_pop(&pop_qt, server) == 0, "pop posted");
    demi_qresult_t qr;
    timespec ten_ms = {0, 10 * 1000 * 1000};
    uint64_t before = ringlet::user::now();
    int e = demi_wait(&qr, pop_qt, &ten_ms);
    uint64_t waited = ringlet::user::now() - before;
    check(e == ETIMEDOUT, "wait on an idle queue times out");
    check(waited >= ringlet::user::timebase_hz() / 100, "... after at least 10 ms");

    // Ping-pong through the loopback "network", every byte checked.
    int round_trips = 0;
    for (int i = 0; i < 100; ++i) {
        demi_sgarray_t sga = demi_sgaalloc(64 + i);
        if (sga.sga_numsegs != 1) break;
        auto* bytes = static_cast<unsigned char*>(sga.sga_segs[0].sgaseg_buf);
        for (uint32_t k = 0; k < sga.sga_segs[0].sgaseg_len; ++k) bytes[k] = static_cast<unsigned char>(i + k);
        demi_qtoken_t push_qt;
        if (demi_pushto(&push_qt, client, &sga, reinterpret_cast<sockaddr*>(&server_addr), sizeof server_addr) != 0)
            break;
        demi_qresult_t pushed;
        if (demi_wait(&pushed, push_qt, nullptr) != 0) break;
        demi_sgafree(&sga);
        if (demi_wait(&qr, pop_qt, nullptr) != 0 || qr.qr_opcode != DEMI_OPC_POP) break;
        const demi_sgarray_t& got = qr.qr_value.sga;
        bool same = got.sga_segs[0].sgaseg_len == 64u + i;
        auto* in = static_cast<unsigned char*>(got.sga_segs[0].sgaseg_buf);
        for (uint32_t k = 0; same && k < got.sga_segs[0].sgaseg_len; ++k) same = in[k] == static_cast<unsigned char>(i + k);
        demi_sgafree(&qr.qr_value.sga);
        if (!same) break;
        ++round_trips;
        if (demi_pop(&pop_qt, server) != 0) break;
    }
    check(round_trips == 100, "100 UDP round trips, every byte checked");
    check(demi_close(server) == 0 && demi_close(client) == 0, "close both queues");
    int bogus = 12345;
    check(demi_close(bogus) == EBADF, "close of an unknown qd is EBADF");
    printf("pdpix_check: %d failed\n", g_failed);
    return g_failed;
}
