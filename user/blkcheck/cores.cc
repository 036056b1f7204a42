// blkcheck cores[:SEED]: the storage queue from every core of an app placed
// on several harts (init=blkcheck:cores@all; issue 14). Core 0 opens the
// disk first (it brings the device up, one request queue per core where
// the device offers them), then starts a core on each other hart; every
// core opens its own storage queue and writes, flushes, reads back and
// verifies its own 128 KiB region (4 requests in flight), then prints what
// its queue did (ringlet_blk_core_stats): the device queue it submitted on
// and how many requests, or how many it forwarded to core 0. Core 0 keeps
// serving (forwarded requests, other cores' doorbells) until every core is
// done, then prints its own line and the verdict. Exit 0 only when every
// core verified its region.
//
// blkcheck cores-reset: the same, then (once every core verified) core 2
// makes its queue act as if the disk had asked for a reset
// (ringlet_blk_inject_fault): every core reads its region back until no
// read fails with EIO (requests held across the reset do), finds it intact,
// and writes and verifies it once more.
#include <errno.h>
#include <string.h>

#include <atomic>

#include "libos/backend/blk_queue.h"

extern "C" int ringlet_blk_inject_fault(void);
#include "user/blkcheck/blkcheck.h"
#include "user/rt/cores.h"
#include "user/rt/syscall.h"

namespace ringlet::blkcheck {
namespace {

using user::printf;

constexpr uint64_t kRegionBase = 1u << 20;  // clear of `write`'s 256 KiB pattern
constexpr uint32_t kChunks = 4;
constexpr uint32_t kChunkBytes = 32u << 10;
constexpr uint32_t kRegionBytes = kChunks * kChunkBytes;
constexpr uint32_t kMaxCores = 4;
constexpr timespec kPhase{10, 0};
constexpr timespec kTick{0, 10'000'000};
constexpr uint32_t kMaxTicks = 12'000;  // 120 s of waiting for the other cores

constexpr uint32_t kNoFault = ~0u;
constexpr uint32_t kReadAttempts = 20;

uint64_t g_seed = 0;
uint32_t g_fault_core = kNoFault;
std::atomic<uint32_t> g_started{0};
std::atomic<uint32_t> g_verified{0};   // cores past their first region
std::atomic<bool> g_reset_seen{false};  // the fault core read its region back after the reset
bool g_eio_expected[kMaxCores] = {};    // a core's EIO is the reset's, not a failure
uint64_t g_rounds = 0;  // cores-bench: round trips per core after the check
std::atomic<uint32_t> g_done{0};
std::atomic<uint32_t> g_failed{0};

uint64_t word_at(uint32_t core, uint64_t index) {
    uint64_t x = g_seed ^ (uint64_t{core} << 56) ^ index;
    x = (x ^ (x >> 31)) * 0x7fb5d329728ea185ull;
    return x ^ (x >> 27) ^ 0x52494e47424c4b32ull;  // "RINGBLK2"
}

void fill(uint8_t* p, uint32_t core, uint32_t chunk) {
    for (uint32_t w = 0; w < kChunkBytes / 8; ++w) {
        const uint64_t v = word_at(core, uint64_t{chunk} * (kChunkBytes / 8) + w);
        memcpy(p + w * 8, &v, 8);
    }
}

bool check(const uint8_t* p, uint32_t core, uint32_t chunk) {
    for (uint32_t w = 0; w < kChunkBytes / 8; ++w) {
        uint64_t v;
        memcpy(&v, p + w * 8, 8);
        if (v != word_at(core, uint64_t{chunk} * (kChunkBytes / 8) + w)) {
            printf("blkcheck: core %u: MISMATCH in chunk %u at word %u FAILED\n", core, chunk, w);
            return false;
        }
    }
    return true;
}

bool wait_ops(uint32_t core, const char* what, const demi_qtoken_t* qts, demi_qresult_t* qrs) {
    if (const int e = demi_wait_all(qrs, qts, kChunks, &kPhase); e != 0) {
        printf("blkcheck: core %u: %s: wait: %s FAILED\n", core, what, errno_name(e));
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < kChunks; ++i) {
        if (const int e = op_errno(qrs[i]); e != 0) {
            printf("blkcheck: core %u: %s of chunk %u: %s%s\n", core, what, i, errno_name(e),
                   e == EIO && g_eio_expected[core] ? " (the reset)" : " FAILED");
            ok = false;
        }
    }
    return ok;
}

// Writes, flushes, reads back and verifies this core's region.
bool region(uint32_t core, int disk) {
    const uint64_t base = kRegionBase + uint64_t{core} * kRegionBytes;
    demi_qtoken_t qts[kChunks];
    demi_qresult_t qrs[kChunks];
    demi_sgarray_t sgas[kChunks];
    for (uint32_t c = 0; c < kChunks; ++c) {
        sgas[c] = demi_sgaalloc(kChunkBytes);
        if (sgas[c].sga_numsegs != 1) {
            printf("blkcheck: core %u: no buffer FAILED\n", core);
            return false;
        }
        fill(static_cast<uint8_t*>(sgas[c].sga_segs[0].sgaseg_buf), core, c);
        if (const int e = ringlet_demi_pushat(&qts[c], disk, &sgas[c], base + c * kChunkBytes); e != 0) {
            printf("blkcheck: core %u: pushat: %s FAILED\n", core, errno_name(e));
            return false;
        }
    }
    const bool wrote = wait_ops(core, "write", qts, qrs);
    for (demi_sgarray_t& s : sgas) (void)demi_sgafree(&s);
    if (!wrote) return false;
    demi_qtoken_t qt = 0;
    demi_qresult_t qr{};
    if (const int e = finish(ringlet_demi_flush(&qt, disk), &qt, &qr); e != 0) {
        printf("blkcheck: core %u: flush: %s FAILED\n", core, errno_name(e));
        return false;
    }
    for (uint32_t c = 0; c < kChunks; ++c) {
        if (const int e = ringlet_demi_popat(&qts[c], disk, base + c * kChunkBytes, kChunkBytes); e != 0) {
            printf("blkcheck: core %u: popat: %s FAILED\n", core, errno_name(e));
            return false;
        }
    }
    if (!wait_ops(core, "read", qts, qrs)) return false;
    bool ok = true;
    for (uint32_t c = 0; c < kChunks; ++c) {
        if (ok && !check(static_cast<const uint8_t*>(qrs[c].qr_value.sga.sga_segs[0].sgaseg_buf), core, c)) ok = false;
        (void)demi_sgafree(&qrs[c].qr_value.sga);
    }
    if (ok) printf("blkcheck: core %u: wrote and verified %u KiB at byte %lu\n", core, kRegionBytes / 1024, base);
    return ok;
}

// Reads this core's region back (no write): true when every read worked
// and the bytes are those written before.
bool reread(uint32_t core, int disk) {
    const uint64_t base = kRegionBase + uint64_t{core} * kRegionBytes;
    demi_qtoken_t qts[kChunks];
    demi_qresult_t qrs[kChunks];
    for (uint32_t c = 0; c < kChunks; ++c) {
        if (const int e = ringlet_demi_popat(&qts[c], disk, base + c * kChunkBytes, kChunkBytes); e != 0) {
            printf("blkcheck: core %u: popat: %s FAILED\n", core, errno_name(e));
            return false;
        }
    }
    const bool read = wait_ops(core, "reread", qts, qrs);
    bool ok = read;
    for (uint32_t c = 0; c < kChunks; ++c) {
        if (op_errno(qrs[c]) != 0) continue;
        if (ok && !check(static_cast<const uint8_t*>(qrs[c].qr_value.sga.sga_segs[0].sgaseg_buf), core, c)) ok = false;
        (void)demi_sgafree(&qrs[c].qr_value.sga);
    }
    if (read && !ok) g_eio_expected[core] = false;  // wrong bytes are never the reset's
    return ok;
}

void idle_tick() {
    demi_qresult_t qr{};
    int n = 0;
    (void)demi_wait_next_n(&qr, 1, &n, &kTick);
}

// cores-reset, after the first region: the fault, then every core reads
// its region back until the reset is over, and writes it once more.
bool after_reset(uint32_t core, int disk) {
    if (g_fault_core == kNoFault) return true;
    g_verified.fetch_add(1);
    for (uint32_t t = 0; g_verified.load() < g_started.load() || g_started.load() == 0; ++t) {
        if (t > kMaxTicks) return false;
        idle_tick();
    }
    g_eio_expected[core] = true;
    if (core == g_fault_core) {
        if (ringlet_blk_inject_fault() != 0) {
            printf("blkcheck: core %u: no queue to fault FAILED\n", core);
            return false;
        }
        printf("blkcheck: core %u: disk fault injected\n", core);
    } else {
        for (uint32_t t = 0; !g_reset_seen.load(); ++t) {
            if (t > kMaxTicks) return false;
            idle_tick();
        }
    }
    uint32_t attempt = 1;
    while (!reread(core, disk)) {
        if (!g_eio_expected[core] || ++attempt > kReadAttempts) {
            printf("blkcheck: core %u: region not readable after the reset FAILED\n", core);
            return false;
        }
        idle_tick();
    }
    g_eio_expected[core] = false;
    if (core == g_fault_core) g_reset_seen.store(true);
    printf("blkcheck: core %u: region intact after the reset (read %u time%s)\n", core, attempt,
           attempt == 1 ? "" : "s");
    return region(core, disk);
}

void run_bench(uint32_t core, int disk) {
    if (g_rounds == 0) return;
    char who[] = "core ?: bench";
    who[5] = static_cast<char>('0' + core);  // core < kMaxCores
    if (bench(disk, kRegionBase + uint64_t{core} * kRegionBytes, g_rounds, who) != 0) g_failed.fetch_add(1);
}

void report(uint32_t core) {
    backend::BlkCoreStats st;
    if (const int e = ringlet_blk_core_stats(core, &st); e != 0) {
        printf("blkcheck: core %u: no storage counters: %s FAILED\n", core, errno_name(e));
        g_failed.fetch_add(1);
        return;
    }
    printf("blkcheck: core %u: queue %d of %u, submitted %lu, forwarded %lu, dropped %lu, served %lu\n", core,
           st.queue, st.queues, st.submitted, st.forwarded, st.dropped, st.served);
    // How often core 0 took the device's interrupt for another core's queue
    // and rang that core (timing-dependent: printed, not checked).
    if (core == 0) printf("blkcheck: core 0: doorbells rung for other cores' queues: %lu\n", st.doorbells);
}

// Runs on every core but the first: its own libOS and storage queue.
int other_core(void*) {
    int disk = -1;
    if (start("--backend=loopback", &disk) != 0) {
        g_failed.fetch_add(1);
    } else {
        const uint32_t core = static_cast<uint32_t>(disk / 1024);  // a qd names its core
        if (!region(core, disk) || !after_reset(core, disk)) g_failed.fetch_add(1);
        run_bench(core, disk);
        report(core);
    }
    g_done.fetch_add(1);
    // Returning would end the app on every hart: idle until core 0 ends it.
    for (;;) {
        demi_qresult_t qr{};
        int n = 0;
        (void)demi_wait_next_n(&qr, 1, &n, &kTick);
    }
}

}  // namespace

int cores(uint64_t seed, uint64_t rounds, bool reset) {
    g_seed = seed;
    g_rounds = rounds;
    int disk = -1;
    if (start("--backend=loopback", &disk) != 0) return 1;
    uint64_t end = 0;
    if (const int e = ringlet_demi_blk_capacity(disk, &end); e != 0 || end < kRegionBase + kMaxCores * kRegionBytes) {
        printf("blkcheck: cores: disk too small (%lu bytes) FAILED\n", end);
        return 1;
    }
    uint32_t started = 1;
#if RINGLET_FREESTANDING
    const uint64_t harts = user::placement_harts();
    const uint64_t mine = user::hart_index();
    for (uint32_t h = 0; h < 64 && started < kMaxCores; ++h) {
        if (!(harts & (1ull << h)) || h == mine) continue;
        if (!user::start_core(h, &other_core, nullptr)) {
            printf("blkcheck: cores: cannot start a core on hart %u FAILED\n", h);
            return 1;
        }
        ++started;
    }
#endif
    printf("blkcheck: cores: %u cores, seed %lu\n", started, seed);
    if (reset) g_fault_core = started > 2 ? 2 : started - 1;  // a core other than 0 where there is one
    g_started.store(started);
    if (!region(0, disk) || !after_reset(0, disk)) g_failed.fetch_add(1);
    run_bench(0, disk);
    // Keep serving the others (their forwarded requests, their doorbells).
    uint32_t ticks = 0;
    while (g_done.load() + 1 < started && ticks++ < kMaxTicks) {
        demi_qresult_t qr{};
        int n = 0;
        (void)demi_wait_next_n(&qr, 1, &n, &kTick);
    }
    if (g_done.load() + 1 < started) {
        printf("blkcheck: cores: only %u of %u cores finished FAILED\n", g_done.load() + 1, started);
        return 1;
    }
    report(0);
    if (g_failed.load() != 0) {
        printf("blkcheck: cores: %u FAILED\n", g_failed.load());
        return 1;
    }
    printf("blkcheck: cores: every core verified its region\n");
    return 0;
}

}  // namespace ringlet::blkcheck
