// blkcheck serve:PORT: one app on the network and the disk at once. Every
// UDP datagram on PORT is written to the disk (padded with zeros to whole
// sectors) at kBase + (n mod kSlots) * kSlotBytes for the n-th request
// (from 0), read back from there into a fresh buffer, compared, and the
// bytes read back are the reply. "QUIT" flushes, answers "BYE n" and ends
// the app (exit 0 if every request matched).
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "user/blkcheck/blkcheck.h"
#include "user/rt/syscall.h"

namespace ringlet::blkcheck {
namespace {

using user::printf;

constexpr uint64_t kBase = 1u << 20;  // clear of the pattern (256 KiB) and the bench (4 MiB)
constexpr uint32_t kSlotBytes = 4096;
constexpr uint32_t kSlots = 256;

struct Server {
    int udp = -1;
    int disk = -1;
    uint64_t served = 0;
    int failed = 0;
};

// Sends `sga` (which stays the caller's) to `to`.
int reply(Server& s, const demi_sgarray_t* sga, const sockaddr_in& to) {
    demi_qtoken_t qt = 0;
    demi_qresult_t qr{};
    return finish(demi_pushto(&qt, s.udp, sga, reinterpret_cast<const sockaddr*>(&to), sizeof to), &qt, &qr);
}

// Stores the datagram, reads it back and answers with what was read.
void handle(Server& s, const demi_sgarray_t& in) {
    const uint32_t len = in.sga_segs[0].sgaseg_len;
    const uint32_t padded = (len + kSector - 1) / kSector * kSector;
    const uint64_t offset = kBase + (s.served % kSlots) * uint64_t{kSlotBytes};
    // The datagram's buffer is sized for the packet, not for whole sectors:
    // the disk gets a sector-sized copy.
    demi_sgarray_t out = demi_sgaalloc(padded);
    if (out.sga_numsegs != 1) {
        printf("blkcheck: serve: no %u-byte buffer FAILED\n", padded);
        ++s.failed;
        return;
    }
    memcpy(out.sga_segs[0].sgaseg_buf, in.sga_segs[0].sgaseg_buf, len);
    memset(static_cast<uint8_t*>(out.sga_segs[0].sgaseg_buf) + len, 0, padded - len);
    demi_qtoken_t qt = 0;
    demi_qresult_t qr{};
    int e = finish(ringlet_demi_pushat(&qt, s.disk, &out, offset), &qt, &qr);
    (void)demi_sgafree(&out);
    if (e == 0) e = finish(ringlet_demi_popat(&qt, s.disk, offset, padded), &qt, &qr);
    if (e != 0) {
        printf("blkcheck: serve: request %lu at byte %lu: %s FAILED\n", s.served, offset, errno_name(e));
        ++s.failed;
        return;
    }
    demi_sgarray_t back = qr.qr_value.sga;
    if (memcmp(back.sga_segs[0].sgaseg_buf, in.sga_segs[0].sgaseg_buf, len) != 0) {
        printf("blkcheck: serve: MISMATCH: request %lu read back differently\n", s.served);
        ++s.failed;
    }
    back.sga_segs[0].sgaseg_len = len;  // zero-copy: the reply is the read buffer itself
    if (const int r = reply(s, &back, in.sga_addr); r != 0) {
        printf("blkcheck: serve: reply %lu: %s FAILED\n", s.served, errno_name(r));
        ++s.failed;
    }
    (void)demi_sgafree(&back);
    ++s.served;
}

int quit(Server& s, const sockaddr_in& from) {
    demi_qtoken_t qt = 0;
    demi_qresult_t qr{};
    if (const int e = finish(ringlet_demi_flush(&qt, s.disk), &qt, &qr); e != 0) {
        printf("blkcheck: serve: flush: %s FAILED\n", errno_name(e));
        ++s.failed;
    }
    char text[32] = "BYE ";
    uint32_t n = 4;
    char digits[20];
    uint32_t d = 0;
    uint64_t v = s.served;
    do {
        digits[d++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (d > 0) text[n++] = digits[--d];
    demi_sgarray_t bye = demi_sgaalloc(n);
    if (bye.sga_numsegs == 1) {
        memcpy(bye.sga_segs[0].sgaseg_buf, text, n);
        (void)reply(s, &bye, from);
        (void)demi_sgafree(&bye);
    }
    // A push completes once the NIC has the frame, not once it is on the
    // wire, and the machine may power off as soon as this app ends: idle
    // (serving the network, not answering) a moment so the answer leaves.
    demi_qtoken_t idle = 0;
    if (demi_pop(&idle, s.udp) == 0) {
        constexpr timespec kLinger{0, 300'000'000};
        (void)demi_wait(&qr, idle, &kLinger);
    }
    printf("blkcheck: served %lu requests, %d FAILED\n", s.served, s.failed);
    return s.failed == 0 ? 0 : 1;
}

}  // namespace

int serve(uint64_t port) {
    Server s;
    if (port == 0 || port > 65535) return 2;
    if (start("--backend=lwip", &s.disk) != 0) return 1;
    if (const int e = demi_socket(&s.udp, AF_INET, SOCK_DGRAM, 0); e != 0) {
        printf("blkcheck: socket: %s FAILED\n", errno_name(e));
        return 1;
    }
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(static_cast<uint16_t>(port));
    if (const int e = demi_bind(s.udp, reinterpret_cast<const sockaddr*>(&any), sizeof any); e != 0) {
        printf("blkcheck: bind: %s FAILED\n", errno_name(e));
        return 1;
    }
    printf("blkcheck: serving UDP port %lu: each datagram goes to disk and back\n", port);
    for (;;) {
        demi_qtoken_t qt = 0;
        demi_qresult_t qr{};
        if (const int e = demi_pop(&qt, s.udp); e != 0) {
            printf("blkcheck: pop: %s FAILED\n", errno_name(e));
            return 1;
        }
        // No deadline: the client decides when to quit.
        if (const int e = demi_wait(&qr, qt, nullptr); e != 0 || op_errno(qr) != 0) {
            printf("blkcheck: pop: %s FAILED\n", errno_name(e != 0 ? e : op_errno(qr)));
            return 1;
        }
        demi_sgarray_t in = qr.qr_value.sga;
        const bool is_quit = in.sga_segs[0].sgaseg_len == 4 && memcmp(in.sga_segs[0].sgaseg_buf, "QUIT", 4) == 0;
        if (is_quit) {
            const sockaddr_in from = in.sga_addr;
            (void)demi_sgafree(&in);
            return quit(s, from);
        }
        if (in.sga_segs[0].sgaseg_len > 0) handle(s, in);
        (void)demi_sgafree(&in);
    }
}

}  // namespace ringlet::blkcheck
