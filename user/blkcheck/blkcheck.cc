// blkcheck: exercises the PDPIX storage queue (ringlet_demi_blk_open and
// friends, libos/pdpix/ringlet_demi.h) on the machine's virtio-blk device.
//
//   blkcheck write[:SEED]   writes the pattern over the first kSectors
//                           sectors (kChunks pushes in flight at once),
//                           flushes, pops it back and verifies it
//   blkcheck verify[:SEED]  only pops and verifies (e.g. after a restart)
//   blkcheck bench[:N]      N 4 KiB write+read round trips at byte 4 MiB:
//                           guest instructions per round trip (rdinstret,
//                           exact under QEMU -icount), not counting sleeps
//   blkcheck serve:PORT     the network and the disk in one app (serve.cc)
//   blkcheck faults[:SEED]  write, then requests the host fails (QEMU
//                           blkdebug) must end in EIO and nothing else
//                           (faults.cc), then verify
//   blkcheck cores[:SEED]   every core of the app (init=blkcheck:cores@all)
//                           writes and verifies its own region (cores.cc)
//   blkcheck cores-bench[:N]  the same, then N 4 KiB round trips per core
//   blkcheck cores-reset[:SEED]  the same, then a disk reset in the middle
//
// write and verify also check that requests past the end of the disk, not
// on a sector boundary or not meant for a storage queue are refused with the
// right errno, and that the last sector is readable. The pattern sector s
// holds 64 little-endian words: "RINGBLK1", s, SEED, then a hash of (SEED,
// s, word index), so a sector written elsewhere, by another seed or not at
// all fails the check. Exit code 0 only when every check held.
#include "user/blkcheck/blkcheck.h"

#include <errno.h>
#include <string.h>

#include "user/rt/syscall.h"

namespace ringlet::blkcheck {
namespace {

using user::printf;

constexpr uint32_t kSectors = 512;  // 256 KiB
constexpr uint32_t kChunks = 4;     // pushes of 64 KiB each, all in flight together
constexpr uint32_t kChunkSectors = kSectors / kChunks;
constexpr uint32_t kChunkBytes = kChunkSectors * kSector;
constexpr uint32_t kWords = kSector / 8;
constexpr uint64_t kDefaultSeed = 0x5eed0001;
constexpr timespec kPhase{10, 0};  // generous: QEMU without KVM
constexpr uint8_t kPoison = 0xa5;
constexpr uint64_t kBenchOffset = 4u << 20;
constexpr uint32_t kBenchBytes = 4096;

uint64_t g_seed = kDefaultSeed;
int g_failed = 0;
int g_disk = -1;

uint64_t mix(uint64_t x) {  // splitmix64's finaliser: every input bit moves every output bit
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t expected_word(uint64_t sector, uint32_t word) {
    if (word == 0) {
        uint64_t magic;
        memcpy(&magic, "RINGBLK1", 8);
        return magic;
    }
    if (word == 1) return sector;
    if (word == 2) return g_seed;
    return mix(g_seed ^ mix(sector * kWords + word));
}

uint8_t* seg(const demi_sgarray_t& sga) { return static_cast<uint8_t*>(sga.sga_segs[0].sgaseg_buf); }

// The first word of `sga` (sectors from first_sector on) that differs from
// the pattern: false, with a MISMATCH line, if there is one.
bool matches(const demi_sgarray_t& sga, uint64_t first_sector) {
    const uint32_t sectors = sga.sga_segs[0].sgaseg_len / kSector;
    for (uint32_t s = 0; s < sectors; ++s) {
        for (uint32_t w = 0; w < kWords; ++w) {
            uint64_t v;
            memcpy(&v, seg(sga) + (s * kWords + w) * 8, 8);
            const uint64_t want = expected_word(first_sector + s, w);
            if (v != want) {
                printf("blkcheck: MISMATCH: first bad sector %lu, word %u is 0x%lx, expected 0x%lx\n",
                       first_sector + s, w, v, want);
                return false;
            }
        }
    }
    return true;
}

// Waits for every token (all started, in sector order); false, with a line,
// if the wait or any operation failed. Results go to qrs.
bool wait_all(const char* what, const demi_qtoken_t* qts, uint32_t n, demi_qresult_t* qrs) {
    if (const int e = demi_wait_all(qrs, qts, static_cast<int>(n), &kPhase); e != 0) {
        printf("blkcheck: %s: wait: %s FAILED\n", what, errno_name(e));
        return false;
    }
    for (uint32_t i = 0; i < n; ++i) {
        if (const int e = op_errno(qrs[i]); e != 0) {
            printf("blkcheck: %s of sectors %u..%u: %s FAILED\n", what, i * kChunkSectors,
                   (i + 1) * kChunkSectors - 1, errno_name(e));
            return false;
        }
    }
    return true;
}

bool write_pattern() {
    demi_sgarray_t sgas[kChunks];
    demi_qtoken_t qts[kChunks];
    demi_qresult_t qrs[kChunks];
    for (uint32_t c = 0; c < kChunks; ++c) {
        sgas[c] = demi_sgaalloc(kChunkBytes);
        if (sgas[c].sga_numsegs != 1) {
            printf("blkcheck: write: no %u-byte buffer FAILED\n", kChunkBytes);
            return false;
        }
        for (uint32_t s = 0; s < kChunkSectors; ++s) {
            for (uint32_t w = 0; w < kWords; ++w) {
                const uint64_t v = expected_word(uint64_t{c} * kChunkSectors + s, w);
                memcpy(seg(sgas[c]) + (s * kWords + w) * 8, &v, 8);
            }
        }
        if (const int e = ringlet_demi_pushat(&qts[c], g_disk, &sgas[c], uint64_t{c} * kChunkBytes); e != 0) {
            printf("blkcheck: write: pushat: %s FAILED\n", errno_name(e));
            return false;
        }
    }
    const bool ok = wait_all("write", qts, kChunks, qrs);
    for (demi_sgarray_t& s : sgas) (void)demi_sgafree(&s);
    if (!ok) return false;
    demi_qtoken_t qt = 0;
    if (const int e = finish(ringlet_demi_flush(&qt, g_disk), &qt, qrs); e != 0) {
        printf("blkcheck: flush: %s FAILED\n", errno_name(e));
        return false;
    }
    return true;
}

// Pops (and with write, first pushes) and verifies the pattern.
bool pattern(bool write) {
    if (write && !write_pattern()) return false;
    // Poison the heap's free chunk-sized buffers, which the pops will get
    // back: a pop that moved no data must not find the pushed pattern there.
    demi_sgarray_t poison[kChunks];
    for (demi_sgarray_t& p : poison) {
        p = demi_sgaalloc(kChunkBytes);
        if (p.sga_numsegs == 1) memset(seg(p), kPoison, kChunkBytes);
    }
    for (demi_sgarray_t& p : poison) (void)demi_sgafree(&p);
    demi_qtoken_t qts[kChunks];
    demi_qresult_t qrs[kChunks];
    for (uint32_t c = 0; c < kChunks; ++c) {
        if (const int e = ringlet_demi_popat(&qts[c], g_disk, uint64_t{c} * kChunkBytes, kChunkBytes); e != 0) {
            printf("blkcheck: read: popat: %s FAILED\n", errno_name(e));
            return false;
        }
    }
    if (!wait_all("read", qts, kChunks, qrs)) return false;
    bool ok = true;
    for (uint32_t c = 0; c < kChunks; ++c) {
        // Chunks are in sector order: the first mismatch is the lowest.
        if (ok && !matches(qrs[c].qr_value.sga, uint64_t{c} * kChunkSectors)) ok = false;
        (void)demi_sgafree(&qrs[c].qr_value.sga);
    }
    if (!ok) return false;
    if (write)
        printf("blkcheck: wrote %u sectors, verified\n", kSectors);
    else
        printf("blkcheck: pattern intact (%u sectors)\n", kSectors);
    return true;
}

// Requests the queue must refuse with `want`, and the last sector, which it
// must serve.
void boundaries(uint64_t end) {
    enum class Op { Pop, Push, PlainPop };
    struct Case {
        const char* what;
        Op op;
        uint64_t offset;
        uint32_t len;
        int want;
    } cases[] = {
        {"read past capacity", Op::Pop, end, kSector, ERANGE},
        {"read straddling the end", Op::Pop, end - kSector, 2 * kSector, ERANGE},
        {"read at an offset near 2^64", Op::Pop, ~uint64_t{0} - 511, kSector, ERANGE},
        {"write past capacity", Op::Push, end, kSector, ERANGE},
        {"read at a misaligned offset", Op::Pop, 100, kSector, EINVAL},
        {"read of a partial sector", Op::Pop, 0, 100, EINVAL},
        {"write of a partial sector", Op::Push, 0, 100, EINVAL},
        {"demi_pop on a storage queue", Op::PlainPop, 0, 0, ENOTSUP},
        {"read of the last sector", Op::Pop, end - kSector, kSector, 0},
    };
    for (const Case& c : cases) {
        demi_qtoken_t qt = 0;
        demi_qresult_t qr{};
        int e = 0;
        demi_sgarray_t sga{};
        if (c.op == Op::Push) {
            sga = demi_sgaalloc(c.len);
            if (sga.sga_numsegs == 1) memset(seg(sga), 0, c.len);
            e = finish(ringlet_demi_pushat(&qt, g_disk, &sga, c.offset), &qt, &qr);
            // A refused write leaves the sga the app's: freeing it must work.
            if (demi_sgafree(&sga) != 0) e = EFAULT;
        } else if (c.op == Op::Pop) {
            e = finish(ringlet_demi_popat(&qt, g_disk, c.offset, c.len), &qt, &qr);
            if (e == 0 && (qr.qr_value.sga.sga_segs[0].sgaseg_len != c.len || demi_sgafree(&qr.qr_value.sga) != 0))
                e = EFAULT;
        } else {
            e = finish(demi_pop(&qt, g_disk), &qt, &qr);
        }
        const bool ok = e == c.want;
        if (c.want == 0)
            printf("blkcheck: %s: %s%s\n", c.what, e == 0 ? "Ok" : errno_name(e), ok ? "" : " FAILED");
        else
            printf("blkcheck: %s refused: %s%s\n", c.what, errno_name(e), ok ? "" : " FAILED");
        if (!ok) ++g_failed;
    }
}

}  // namespace

int bench(int disk, uint64_t offset, uint64_t rounds, const char* who) {
    demi_sgarray_t data = demi_sgaalloc(kBenchBytes);
    if (data.sga_numsegs != 1) return 1;
    uint64_t instructions = 0, sleeping = 0;
    // Round 0 warms up (first-touch paths, the disk's own caches): not counted.
    for (uint64_t i = 0; i <= rounds; ++i) {
        memcpy(seg(data), &i, sizeof i);
        const uint64_t t0 = user::instret();
        const uint64_t s0 = ringlet_demi_sleep_instructions();
        demi_qtoken_t qt = 0;
        demi_qresult_t qr{};
        int e = finish(ringlet_demi_pushat(&qt, disk, &data, offset), &qt, &qr);
        if (e == 0) e = finish(ringlet_demi_popat(&qt, disk, offset, kBenchBytes), &qt, &qr);
        uint64_t got = ~i;
        if (e == 0) {
            memcpy(&got, seg(qr.qr_value.sga), sizeof got);
            (void)demi_sgafree(&qr.qr_value.sga);
        }
        const uint64_t slept = ringlet_demi_sleep_instructions() - s0;
        const uint64_t spent = user::instret() - t0;
        if (e != 0 || got != i) {
            printf("blkcheck: %s: round %lu: %s FAILED\n", who, i, e != 0 ? errno_name(e) : "read back wrong data");
            return 1;
        }
        if (i == 0) continue;
        instructions += spent - slept;
        sleeping += slept;
    }
    (void)demi_sgafree(&data);
    printf("blkcheck: %s: %lu round trips of 4 KiB write+read: %lu instructions each in the app, %lu asleep\n",
           who, rounds, instructions / rounds, sleeping / rounds);
    return 0;
}

namespace {

int run(int argc, char** argv) {
    const char* mode = argc >= 2 ? argv[1] : "";
    const bool write = strcmp(mode, "write") == 0;
    const bool verify = strcmp(mode, "verify") == 0;
    const bool is_bench = strcmp(mode, "bench") == 0;
    const bool is_faults = strcmp(mode, "faults") == 0;
    uint64_t arg = is_bench ? 100 : kDefaultSeed;
    if (strcmp(mode, "cores") == 0 || strcmp(mode, "cores-bench") == 0) {
        const bool with_bench = mode[5] != '\0';
        uint64_t rounds = 100;
        if (argc > 3 || (argc == 3 && !parse_u64(argv[2], with_bench ? &rounds : &arg)) || rounds == 0) return 2;
        return cores(arg, with_bench ? rounds : 0);
    }
    if (strcmp(mode, "cores-reset") == 0) {
        if (argc > 3 || (argc == 3 && !parse_u64(argv[2], &arg))) return 2;
        return cores(arg, 0, true);
    }
    if (strcmp(mode, "serve") == 0) {
        if (argc != 3 || !parse_u64(argv[2], &arg)) return 2;
        return serve(arg);
    }
    if ((!write && !verify && !is_bench && !is_faults) || argc > 3 || (argc == 3 && !parse_u64(argv[2], &arg)) ||
        (is_bench && arg == 0)) {
        printf("usage: blkcheck write|verify|faults|cores[:SEED] | bench[:ROUNDS] | serve:PORT\n");
        return 2;
    }
    if (start("--backend=loopback", &g_disk) != 0) return 1;
    uint64_t end = 0;
    if (const int e = ringlet_demi_blk_capacity(g_disk, &end); e != 0) {
        printf("blkcheck: capacity: %s FAILED\n", errno_name(e));
        return 1;
    }
    if (is_bench) return bench(g_disk, kBenchOffset, arg, "bench");
    g_seed = arg;
    printf("blkcheck: storage queue: %lu sectors (%lu KiB), seed %lu\n", end / kSector, end / 1024, g_seed);
    if (end / kSector < kSectors + 1) {
        printf("blkcheck: disk smaller than the %u-sector pattern FAILED\n", kSectors);
        return 1;
    }
    if (is_faults) {
        // The pattern is the acknowledged data the faults must not touch.
        if (!pattern(true)) ++g_failed;
        if (g_failed == 0 && faults(g_disk) != 0) ++g_failed;
        if (g_failed == 0 && !pattern(false)) ++g_failed;
    } else {
        if (!pattern(write)) ++g_failed;
        boundaries(end);
    }
    if (g_failed == 0)
        printf("blkcheck: all checks passed\n");
    else
        printf("blkcheck: %d checks FAILED\n", g_failed);
    return g_failed == 0 ? 0 : 1;
}

}  // namespace

int start(const char* backend_flag, int* qd) {
    char name[] = "blkcheck";
    char* argv[] = {name, const_cast<char*>(backend_flag), nullptr};
    demi_args args{};
    args.argc = 2;
    args.argv = argv;
    if (const int e = demi_init(&args); e != 0) {
        printf("blkcheck: demi_init: %s FAILED\n", errno_name(e));
        return 1;
    }
    if (const int e = ringlet_demi_blk_open(qd); e != 0) {
        printf("blkcheck: no storage queue: %s FAILED\n", errno_name(e));
        return 1;
    }
    return 0;
}

const char* errno_name(int e) {
    switch (e) {
    case EINVAL: return "EINVAL";
    case ERANGE: return "ERANGE";
    case EIO: return "EIO";
    case ENOTSUP: return "ENOTSUP";
    case ENOMEM: return "ENOMEM";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECANCELED: return "ECANCELED";
    default: return "another errno";
    }
}

int wait_one(demi_qtoken_t qt, demi_qresult_t* qr) { return demi_wait(qr, qt, &kPhase); }

int finish(int start_rc, const demi_qtoken_t* qt, demi_qresult_t* qr) {
    if (start_rc != 0) return start_rc;
    if (const int e = wait_one(*qt, qr); e != 0) return e;
    return op_errno(*qr);
}

bool parse_u64(const char* s, uint64_t* out) {
    if (s == nullptr || *s == '\0') return false;
    uint64_t v = 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9') return false;
        const uint64_t d = static_cast<uint64_t>(*s - '0');
        if (v > (~uint64_t{0} - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

}  // namespace ringlet::blkcheck

int main(int argc, char** argv) { return ringlet::blkcheck::run(argc, argv); }
