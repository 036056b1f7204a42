// Instruction counts of Ringlet's basic costs, read with rdinstret: exact
// only under QEMU -icount (run-qemu.sh --icount --smp 1). Prints one line per
// figure, each the average over many repetitions:
//   syscall round trip  - an ecall that the kernel decodes and answers at once
//                         (wait with a deadline already past)
//   yield round trip    - a coroutine task yielding to the libOS executor and
//                         being resumed (bitmap pick-next included)
//   spawn + complete    - a task spawned, run to completion and reaped
#include <new>

#include "libos/backend/ringlet_platform.h"
#include "libos/rt/executor.h"
#include "libos/rt/frame_pool.h"
#include "libos/rt/task.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

constexpr uint64_t kRounds = 10000;
alignas(4096) unsigned char g_arena[256 << 10];
alignas(rt::Executor) unsigned char g_executor[sizeof(rt::Executor)];

uint64_t syscall_round_trip() {
    uint64_t start = user::instret();
    for (uint64_t i = 0; i < kRounds; ++i) (void)user::syscall(kSysWait, 0, 1);  // deadline long past
    return (user::instret() - start) / kRounds;
}

rt::Task<void> yielder(rt::Executor& ex, uint64_t rounds) {
    for (uint64_t i = 0; i < rounds; ++i) co_await ex.yield();
}

rt::Task<void> nothing() { co_return; }

}  // namespace

int main(int, char**) {
    auto pool = rt::FramePool::create(g_arena, sizeof g_arena);
    if (!pool) return 1;
    rt::FramePool::install(&*pool);
    // The executor is large (its slot table): in .bss, not on the 64 KiB stack.
    static backend::RingletPlatform platform;
    rt::Executor& ex = *new (g_executor) rt::Executor(platform);

    user::printf("microbench: syscall round trip: %lu instructions\n", syscall_round_trip());

    if (!ex.spawn(yielder(ex, kRounds)).ok()) return 1;
    uint64_t start = user::instret();
    ex.run_until_idle();
    user::printf("microbench: yield round trip: %lu instructions\n", (user::instret() - start) / kRounds);

    start = user::instret();
    for (uint64_t i = 0; i < kRounds; ++i) {
        if (!ex.spawn(nothing()).ok()) return 1;
        ex.run_until_idle();
    }
    user::printf("microbench: spawn + run + complete: %lu instructions\n", (user::instret() - start) / kRounds);
    return 0;
}
