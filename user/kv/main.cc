// kv: a key-value server speaking RESP2 (redis-cli and redis-benchmark work
// unmodified), written once against PDPIX; see server.h and journal.h.
//
//   kv [--port N] [--appendfsync always|everysec] [--no-disk] [--disk PATH] [--backend=NAME]
//
// The log lives on the machine's storage queue: virtio-blk on Ringlet, on
// Linux the file named by --disk or RINGLET_DISK. Without one, kv serves
// from memory only (and says so).
#include <demi/libos.h>
#include <errno.h>
#include <string.h>

#include <new>

#include "user/kv/console.h"
#include "user/kv/disk.h"
#include "user/kv/journal.h"
#include "user/kv/server.h"

#if defined(RINGLET_FREESTANDING)
#include "user/rt/syscall.h"
#else
#include <stdlib.h>
#include <time.h>
#endif

namespace {

int64_t g_clock_offset = 0;

// The platform's milliseconds: wall-clock on Linux; on Ringlet, which has no
// wall clock, time since boot. Recovery adds an offset so the store's time
// never runs backwards across restarts (expiry times are absolute).
int64_t platform_ms() {
#if defined(RINGLET_FREESTANDING)
    const uint64_t hz = ringlet::user::timebase_hz();
    const uint64_t t = ringlet::user::now();
    return static_cast<int64_t>(t / hz * 1000 + t % hz * 1000 / hz);
#else
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
#endif
}

int64_t now_ms() { return platform_ms() + g_clock_offset; }

bool parse_port(const char* s, uint16_t* out) {
    int64_t v = 0;
    if (!kv::parse_i64(kv::Slice(s), &v) || v <= 0 || v > 65535) return false;
    *out = static_cast<uint16_t>(v);
    return true;
}

kv::Store g_store;
kv::Stats g_stats;
kv::Disk g_disk;

}  // namespace

int main(int argc, char* argv[]) {
    kv::ServerConfig cfg;
    kv::Log::Fsync fsync = kv::Log::Fsync::Always;
    bool use_disk = true;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (strcmp(a, "--port") == 0 && i + 1 < argc) {
            if (!parse_port(argv[++i], &cfg.port)) return 2;
        } else if (strcmp(a, "--appendfsync") == 0 && i + 1 < argc) {
            const char* m = argv[++i];
            if (strcmp(m, "always") == 0) {
                fsync = kv::Log::Fsync::Always;
            } else if (strcmp(m, "everysec") == 0) {
                fsync = kv::Log::Fsync::Everysec;
            } else {
                kv::Line() << "kv: --appendfsync always|everysec";
                return 2;
            }
        } else if (strcmp(a, "--no-disk") == 0) {
            use_disk = false;
#if !defined(RINGLET_FREESTANDING)
        } else if (strcmp(a, "--disk") == 0 && i + 1 < argc) {
            setenv("RINGLET_DISK", argv[++i], 1);  // read by the libOS's host storage
#endif
        } else if (strncmp(a, "--backend=", 10) != 0) {
            kv::Line() << "usage: kv [--port N] [--appendfsync always|everysec] [--no-disk] [--disk PATH] "
                          "[--backend=NAME]";
            return 2;
        }
    }
    demi_args args;
    memset(&args, 0, sizeof args);
    args.argc = argc;
    args.argv = argv;
    if (demi_init(&args) != 0) {
        kv::Line() << "kv: demi_init failed";
        return 1;
    }
#if defined(RINGLET_FREESTANDING)
    g_stats.os = "ringlet";
    g_stats.maxmemory = 24u << 20;
#endif
    kv::Log* log = nullptr;
    static unsigned char log_storage[sizeof(kv::Log)] __attribute__((aligned(16)));
    if (use_disk) {
        const int e = g_disk.open();
        if (e == 0) {
            log = new (log_storage) kv::Log(g_disk, g_store, fsync);
            int64_t offset = 0;
            if (const int r = log->recover(platform_ms(), &offset); r != 0) {
                kv::Line() << "kv: cannot recover the log (errno " << r << "); stopping";
                return 1;
            }
            g_clock_offset = offset;
        } else {
            kv::Line() << "kv: no disk (errno " << e << "): serving from memory only, nothing persists";
        }
    }
    g_store.set_now(now_ms());
    g_stats.started_ms = g_store.now();
    return kv::serve(cfg, g_store, g_stats, log, now_ms);
}
