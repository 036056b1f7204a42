// blkcheck: exercises the libOS storage queue (libos/backend/blk_queue.h) on
// the machine's virtio-blk device.
//
//   blkcheck write [SEED]   writes the pattern over the first kSectors
//                           sectors (kChunks requests in flight at once),
//                           flushes, reads it back into poisoned buffers and
//                           verifies it
//   blkcheck verify [SEED]  only reads and verifies (e.g. after a restart)
//
// Both modes also check that requests past the end of the disk or not on a
// sector boundary are refused before they reach the device, and that the
// last sector is readable. The pattern sector s holds 64 little-endian
// words: "RINGBLK1", s, SEED, then a hash of (SEED, s, word index), so a
// sector written elsewhere, by another seed or not at all fails the check.
// Exit code 0 only when every check held.
#include <string.h>

#include "libos/backend/blk_queue.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/rt/executor.h"
#include "libos/rt/frame_pool.h"
#include "user/rt/syscall.h"

namespace ringlet {
namespace {

using backend::BlkQueue;
using user::printf;

constexpr uint32_t kSectors = 512;  // 256 KiB
constexpr uint32_t kChunks = 4;     // requests of 64 KiB each, all in flight together
constexpr uint32_t kChunkSectors = kSectors / kChunks;
constexpr uint32_t kChunkBytes = kChunkSectors * BlkQueue::kBlockSize;
constexpr uint32_t kWords = BlkQueue::kBlockSize / 8;
constexpr uint64_t kDefaultSeed = 0x5eed0001;
constexpr uint64_t kPhaseNs = 10'000'000'000ull;  // generous: QEMU without KVM
constexpr uint8_t kPoison = 0xa5;

alignas(64) unsigned char g_frames[64u << 10];
rt::FramePool g_pool;
BlkQueue g_queue;  // static storage: it holds the ~10 KB driver
backend::RingletPlatform g_platform{BlkQueue::notify_mask()};
rt::Executor g_exec{g_platform};
uint64_t g_seed = kDefaultSeed;
int g_failed = 0;

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

void fill(uint8_t* data, uint64_t first_sector, uint32_t sectors) {
    for (uint32_t s = 0; s < sectors; ++s) {
        for (uint32_t w = 0; w < kWords; ++w) {
            const uint64_t v = expected_word(first_sector + s, w);
            memcpy(data + (s * kWords + w) * 8, &v, 8);
        }
    }
}

// One spawned request and what became of it.
struct Job {
    Error error = Error::Ok;
    bool done = false;
    int64_t bad_sector = -1;  // verification: the first sector that differs
    uint32_t bad_word = 0;
    uint64_t got = 0;
};

void finish(Job* job, Error e) {
    job->error = e;
    job->done = true;
}

rt::Task<void> write_chunk(uint32_t chunk, Job* job) {
    auto b = g_queue.alloc(kChunkBytes);
    if (!b) co_return finish(job, b.error());
    const uint64_t first = uint64_t{chunk} * kChunkSectors;
    fill((*b)->data(), first, kChunkSectors);
    auto r = co_await g_queue.write(first * BlkQueue::kBlockSize, *b, kChunkBytes);
    auto f = g_queue.free(*b);
    finish(job, !r ? r.error() : f.error());
}

rt::Task<void> read_chunk(uint32_t chunk, Job* job) {
    auto b = g_queue.alloc(kChunkBytes);
    if (!b) co_return finish(job, b.error());
    // Poisoned first: the heap recycles the write buffers, so a read that
    // moved no data must not find the pattern already there.
    memset((*b)->data(), kPoison, kChunkBytes);
    const uint64_t first = uint64_t{chunk} * kChunkSectors;
    auto r = co_await g_queue.read_into(first * BlkQueue::kBlockSize, *b, kChunkBytes);
    if (r) {
        const uint8_t* data = (*b)->data();
        for (uint32_t s = 0; s < kChunkSectors && job->bad_sector < 0; ++s) {
            for (uint32_t w = 0; w < kWords; ++w) {
                uint64_t v;
                memcpy(&v, data + (s * kWords + w) * 8, 8);
                if (v != expected_word(first + s, w)) {
                    job->bad_sector = static_cast<int64_t>(first + s);
                    job->bad_word = w;
                    job->got = v;
                    break;
                }
            }
        }
    }
    auto f = g_queue.free(*b);
    finish(job, !r ? r.error() : f.error());
}

rt::Task<void> flush_job(Job* job) {
    auto r = co_await g_queue.flush();
    finish(job, r.error());
}

// A read (through read(), the queue's own buffer) that must end with `want`.
rt::Task<void> read_expect(uint64_t offset, uint32_t len, Job* job) {
    auto r = co_await g_queue.read(offset, len);
    if (!r) co_return finish(job, r.error());
    finish(job, g_queue.free(*r).error());
}

rt::Task<void> write_expect(uint64_t offset, uint32_t len, Job* job) {
    auto b = g_queue.alloc(len);
    if (!b) co_return finish(job, b.error());
    memset((*b)->data(), 0, len);
    auto r = co_await g_queue.write(offset, *b, len);
    auto f = g_queue.free(*b);
    finish(job, !r ? r.error() : f.error());
}

// Runs the spawned jobs to completion (sleeping in the kernel while the
// device works): false, with a line saying why, on a spawn failure or when
// kPhaseNs passed first.
bool run_jobs(const char* what, Job* jobs, uint32_t n) {
    auto all_done = [&] {
        for (uint32_t i = 0; i < n; ++i)
            if (!jobs[i].done) return false;
        return true;
    };
    if (auto r = g_exec.run_until(all_done, g_exec.now_ns() + kPhaseNs); !r) {
        printf("blkcheck: %s: %s (%u requests in flight) FAILED\n", what, error_name(r.error()), g_queue.in_flight());
        return false;
    }
    return true;
}

bool spawned(const char* what, Result<rt::TaskId> r) {
    if (r) return true;
    printf("blkcheck: %s: cannot spawn: %s FAILED\n", what, error_name(r.error()));
    return false;
}

// Writes (or, with write false, only reads) and verifies the pattern.
bool pattern(bool write) {
    Job jobs[kChunks];
    if (write) {
        for (uint32_t c = 0; c < kChunks; ++c)
            if (!spawned("write", g_exec.spawn(write_chunk(c, &jobs[c])))) return false;
        if (!run_jobs("write", jobs, kChunks)) return false;
        for (uint32_t c = 0; c < kChunks; ++c) {
            if (jobs[c].error != Error::Ok) {
                printf("blkcheck: write of sectors %u..%u: %s FAILED\n", c * kChunkSectors, (c + 1) * kChunkSectors - 1,
                       error_name(jobs[c].error));
                return false;
            }
        }
        Job flushed;
        if (!spawned("flush", g_exec.spawn(flush_job(&flushed))) || !run_jobs("flush", &flushed, 1)) return false;
        if (flushed.error != Error::Ok) {
            printf("blkcheck: flush: %s FAILED\n", error_name(flushed.error));
            return false;
        }
        for (Job& j : jobs) j = Job{};
    }
    for (uint32_t c = 0; c < kChunks; ++c)
        if (!spawned("read", g_exec.spawn(read_chunk(c, &jobs[c])))) return false;
    if (!run_jobs("read", jobs, kChunks)) return false;
    int64_t bad = -1;
    for (uint32_t c = 0; c < kChunks; ++c) {
        if (jobs[c].error != Error::Ok) {
            printf("blkcheck: read of sectors %u..%u: %s FAILED\n", c * kChunkSectors, (c + 1) * kChunkSectors - 1,
                   error_name(jobs[c].error));
            return false;
        }
        if (bad < 0 && jobs[c].bad_sector >= 0) bad = c;  // chunks are in sector order: the first is the lowest
    }
    if (bad >= 0) {
        const Job& j = jobs[bad];
        printf("blkcheck: MISMATCH: first bad sector %ld, word %u is 0x%lx, expected 0x%lx\n", j.bad_sector, j.bad_word,
               j.got, expected_word(static_cast<uint64_t>(j.bad_sector), j.bad_word));
        return false;
    }
    if (write)
        printf("blkcheck: wrote %u sectors, verified\n", kSectors);
    else
        printf("blkcheck: pattern intact (%u sectors)\n", kSectors);
    return true;
}

// Requests the queue must refuse before submission, and the last sector,
// which it must serve.
void boundaries() {
    const uint64_t end = g_queue.capacity_bytes();
    struct Case {
        const char* what;
        bool write;
        uint64_t offset;
        uint32_t len;
        Error want;
    } cases[] = {
        {"read past capacity", false, end, BlkQueue::kBlockSize, Error::OutOfRange},
        {"read straddling the end", false, end - BlkQueue::kBlockSize, 2 * BlkQueue::kBlockSize, Error::OutOfRange},
        {"read at an offset near 2^64", false, ~uint64_t{0} - 511, BlkQueue::kBlockSize, Error::OutOfRange},
        {"write past capacity", true, end, BlkQueue::kBlockSize, Error::OutOfRange},
        {"read at a misaligned offset", false, 100, BlkQueue::kBlockSize, Error::InvalidArgument},
        {"read of a partial sector", false, 0, 100, Error::InvalidArgument},
        {"read of the last sector", false, end - BlkQueue::kBlockSize, BlkQueue::kBlockSize, Error::Ok},
    };
    for (const Case& c : cases) {
        Job job;
        const uint32_t before = g_queue.in_flight();
        auto task = c.write ? write_expect(c.offset, c.len, &job) : read_expect(c.offset, c.len, &job);
        if (!spawned(c.what, g_exec.spawn(std::move(task))) || !run_jobs(c.what, &job, 1)) {
            ++g_failed;
            continue;
        }
        const bool ok = job.error == c.want && g_queue.in_flight() == before;
        if (c.want == Error::Ok)
            printf("blkcheck: %s: %s%s\n", c.what, error_name(job.error), ok ? "" : " FAILED");
        else
            printf("blkcheck: %s refused: %s%s\n", c.what, error_name(job.error), ok ? "" : " FAILED");
        if (!ok) ++g_failed;
    }
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

int run(int argc, char** argv) {
    const bool write = argc >= 2 && strcmp(argv[1], "write") == 0;
    const bool verify = argc >= 2 && strcmp(argv[1], "verify") == 0;
    if ((!write && !verify) || argc > 3 || (argc == 3 && !parse_u64(argv[2], &g_seed))) {
        printf("usage: blkcheck write|verify [SEED]\n");
        return 2;
    }
    auto pool = rt::FramePool::create(g_frames, sizeof g_frames);
    if (!pool) {
        printf("blkcheck: frame pool: %s FAILED\n", error_name(pool.error()));
        return 1;
    }
    g_pool = *pool;
    rt::FramePool::install(&g_pool);
    rt::Executor::install(&g_exec);
    if (auto r = g_queue.open(); !r) {
        printf("blkcheck: no virtio-blk device: %s FAILED\n", error_name(r.error()));
        return 1;
    }
    g_platform.set_sleep_hook(&g_queue);
    if (auto r = g_queue.start(g_exec); !r) {
        printf("blkcheck: start: %s FAILED\n", error_name(r.error()));
        return 1;
    }
    const uint64_t sectors = g_queue.capacity_bytes() / BlkQueue::kBlockSize;
    printf("blkcheck: virtio-blk: %lu sectors (%lu KiB)%s%s, seed %lu\n", sectors, sectors / 2,
           g_queue.can_flush() ? ", flush" : "", g_queue.read_only() ? ", read-only" : "", g_seed);
    if (sectors < kSectors + 1) {
        printf("blkcheck: disk smaller than the %u-sector pattern FAILED\n", kSectors);
        return 1;
    }
    if (!pattern(write)) ++g_failed;
    boundaries();
    if (g_failed == 0)
        printf("blkcheck: all checks passed (executor idle %lu times, %lu device interrupts)\n", g_exec.blocks(),
               g_queue.interrupts());
    else
        printf("blkcheck: %d checks FAILED\n", g_failed);
    return g_failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ringlet

int main(int argc, char** argv) { return ringlet::run(argc, argv); }
