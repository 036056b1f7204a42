#include <benchmark/benchmark.h>
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>

#include <cstring>

#include "libos/pdpix/ringlet_demi.h"

namespace {

// push on a loopback pipe, pop it back, through the demi_* C API.
void BM_LoopbackPushPopRoundTrip(benchmark::State& state) {
    char a0[] = "bench";
    char a1[] = "--backend=loopback";
    char* argv[] = {a0, a1, nullptr};
    demi_args args{};
    args.argc = 2;
    args.argv = argv;
    if (demi_init(&args) != 0) {
        state.SkipWithError("demi_init");
        return;
    }
    int qd = -1;
    (void)demi_create_pipe(&qd, "bench");
    demi_sgarray_t sga = demi_sgaalloc(64);
    std::memset(sga.sga_segs[0].sgaseg_buf, 1, 64);
    for (auto _ : state) {
        demi_qtoken_t qts[2];
        (void)demi_push(&qts[0], qd, &sga);
        (void)demi_pop(&qts[1], qd);
        demi_qresult_t out[2];
        if (demi_wait_all(out, qts, 2, nullptr) != 0) {
            state.SkipWithError("wait_all");
            break;
        }
        (void)demi_sgafree(&out[1].qr_value.sga);
    }
    (void)demi_sgafree(&sga);
    (void)demi_close(qd);
    (void)ringlet_demi_shutdown();
}
BENCHMARK(BM_LoopbackPushPopRoundTrip);

}  // namespace
