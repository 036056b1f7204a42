// Instruction counts of Ringlet's basic costs, read with rdinstret: exact
// only under QEMU -icount (run-qemu.sh --icount --smp 1). Prints one line per
// figure, each the average over many repetitions:
//   syscall round trip  - an ecall that the kernel decodes and answers at once
//                         (wait with a deadline already past)
//   yield round trip    - a coroutine task yielding to the libOS executor and
//                         being resumed (bitmap pick-next included)
//   spawn + complete    - a task spawned, run to completion and reaped
// An optional first argument sets the repetitions (default 10,000): a short
// run (init=microbench:100) keeps a single-step exec trace small enough to
// profile (see tests/qemu/perf.cmake for the budget these figures guard).
#include <new>

#include "libos/backend/ringlet_platform.h"
#include "libos/rt/executor.h"
#include "libos/rt/frame_pool.h"
#include "libos/rt/task.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

constexpr uint64_t kDefaultRounds = 10000;
uint64_t g_rounds = kDefaultRounds;  // set once from argv before any measurement
alignas(4096) unsigned char g_arena[256 << 10];
alignas(rt::Executor) unsigned char g_executor[sizeof(rt::Executor)];

uint64_t syscall_round_trip() {
    uint64_t start = user::instret();
    for (uint64_t i = 0; i < g_rounds; ++i) (void)user::syscall(kSysWait, 0, 1);  // deadline long past
    return (user::instret() - start) / g_rounds;
}

rt::Task<void> yielder(rt::Executor& ex, uint64_t rounds) {
    for (uint64_t i = 0; i < rounds; ++i) co_await ex.yield();
}

rt::Task<void> nothing() { co_return; }

}  // namespace

// The decimal in `text`, or 0 if it is not one.
uint64_t parse_rounds(const char* text) {
    uint64_t n = 0;
    for (; *text; ++text) {
        if (*text < '0' || *text > '9' || n > 1'000'000) return 0;
        n = n * 10 + static_cast<uint64_t>(*text - '0');
    }
    return n;
}

int main(int argc, char** argv) {
    if (argc > 1) {
        g_rounds = parse_rounds(argv[1]);
        if (g_rounds == 0) {
            user::printf("microbench: bad round count '%s'\n", argv[1]);
            return 1;
        }
    }
    auto pool = rt::FramePool::create(g_arena, sizeof g_arena);
    if (!pool) return 1;
    rt::FramePool::install(&*pool);
    // The executor is large (its slot table): in .bss, not on the 64 KiB stack.
    static backend::RingletPlatform platform;
    rt::Executor& ex = *new (g_executor) rt::Executor(platform);

    user::printf("microbench: syscall round trip: %lu instructions\n", syscall_round_trip());

    if (!ex.spawn(yielder(ex, g_rounds)).ok()) return 1;
    uint64_t start = user::instret();
    ex.run_until_idle();
    user::printf("microbench: yield round trip: %lu instructions\n", (user::instret() - start) / g_rounds);

    start = user::instret();
    for (uint64_t i = 0; i < g_rounds; ++i) {
        if (!ex.spawn(nothing()).ok()) return 1;
        ex.run_until_idle();
    }
    user::printf("microbench: spawn + run + complete: %lu instructions\n", (user::instret() - start) / g_rounds);
    return 0;
}
