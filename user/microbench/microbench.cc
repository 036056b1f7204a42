// Instruction counts of Ringlet's basic costs, read with rdinstret: exact
// only under QEMU -icount (run-qemu.sh --icount --smp 1). Prints one line per
// figure, each the average over many repetitions:
//   syscall round trip  - an ecall that the kernel decodes and answers at once
//                         (wait with a deadline already past)
//   yield round trip    - a coroutine task yielding to the libOS executor and
//                         being resumed (bitmap pick-next included)
//   spawn + complete    - a task spawned, run to completion and reaped
//   PDPIX round         - a push and a pop on a loopback pipe and the
//                         demi_wait_next_n calls that collect both results,
//                         with none and with 512 other operations pending
//                         (an event loop's idle connections): the done list
//                         makes the two equal, where a scan of every
//                         operation per result cost thousands more
// An optional first argument sets the repetitions (default 10,000): a short
// run (init=microbench:100) keeps a single-step exec trace small enough to
// profile (see tests/qemu/perf.cmake for the budget these figures guard).
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>

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

// Instructions per PDPIX round (push + pop on one pipe, their two results
// collected with demi_wait_next_n) while `idle` pops wait on another pipe;
// 0 on a failure.
uint64_t pdpix_round(int busy, int idle_qd, int idle) {
    for (int i = 0; i < idle; ++i) {
        demi_qtoken_t qt;
        if (demi_pop(&qt, idle_qd) != 0) return 0;
    }
    demi_sgarray_t sga = demi_sgaalloc(8);
    if (sga.sga_numsegs != 1) return 0;
    const uint64_t start = user::instret();
    for (uint64_t r = 0; r < g_rounds; ++r) {
        demi_qtoken_t push, pop;
        if (demi_push(&push, busy, &sga) != 0 || demi_pop(&pop, busy) != 0) return 0;
        for (int got = 0; got < 2;) {
            demi_qresult_t out[2];
            int n = 0;
            if (demi_wait_next_n(out, 2 - got, &n, nullptr) != 0) return 0;
            for (int k = 0; k < n; ++k) {
                if (out[k].qr_opcode == DEMI_OPC_POP) (void)demi_sgafree(&out[k].qr_value.sga);
            }
            got += n;
        }
    }
    const uint64_t spent = user::instret() - start;
    (void)demi_sgafree(&sga);
    return spent / g_rounds;
}

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

    // Last: demi_init installs the libOS's own pool and executor.
    char name[] = "microbench", backend[] = "--backend=loopback";
    char* demi_argv[] = {name, backend};
    demi_args args{};
    args.argc = 2;
    args.argv = demi_argv;
    int busy = -1, idle = -1;
    if (demi_init(&args) != 0 || demi_create_pipe(&busy, "busy") != 0 || demi_create_pipe(&idle, "idle") != 0) {
        user::printf("microbench: PDPIX on the loopback backend did not start\n");
        return 1;
    }
    const uint64_t alone = pdpix_round(busy, idle, 0);
    const uint64_t among = pdpix_round(busy, idle, 512);
    if (alone == 0 || among == 0) {
        user::printf("microbench: a PDPIX round failed\n");
        return 1;
    }
    user::printf("microbench: PDPIX round, nothing else pending: %lu instructions\n", alone);
    user::printf("microbench: PDPIX round, 512 operations pending: %lu instructions\n", among);
    return 0;
}
