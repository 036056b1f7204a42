#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "libos/rt/executor.h"
#include "libos/rt/ready_set.h"

namespace ringlet::rt {
namespace {

// pick-next with N ready tasks: the round-robin form the executor uses.
void BM_PickNext(benchmark::State& state) {
    const uint32_t n = static_cast<uint32_t>(state.range(0));
    ReadySet s;
    // Spread the tasks over the whole set so 64 and 4096 touch many words.
    const uint32_t stride = ReadySet::kCapacity / n;
    for (uint32_t i = 0; i < n; ++i) s.set(i * stride);
    uint32_t cursor = 0;
    for (auto _ : state) {
        const int32_t i = s.first_from(cursor);
        benchmark::DoNotOptimize(i);
        cursor = static_cast<uint32_t>(i) + 1;
    }
}
BENCHMARK(BM_PickNext)->Arg(1)->Arg(64)->Arg(4096);

struct NullPlatform final : Platform {
    uint64_t now_ns() override { return 0; }
    void block(uint64_t) override {}
};

struct Pool {
    Pool() : arena(1 << 20) {
        auto p = FramePool::create(arena.data(), arena.size() * 16);
        pool = *p;
        FramePool::install(&pool);
    }
    ~Pool() { FramePool::install(nullptr); }
    struct alignas(16) C {
        unsigned char b[16];
    };
    std::vector<C> arena;
    FramePool pool;
};

Task<void> empty_task(int* n) {
    ++*n;
    co_return;
}

// spawn + first resume + completion + frame free.
void BM_SpawnResumeComplete(benchmark::State& state) {
    Pool p;
    NullPlatform plat;
    auto ex = std::make_unique<Executor>(plat);
    int n = 0;
    for (auto _ : state) {
        (void)ex->spawn(empty_task(&n));
        ex->run_once(false);
    }
    benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_SpawnResumeComplete);

Task<void> yield_forever(Executor* ex, int* n) {
    for (;;) {
        ++*n;
        co_await ex->yield();
    }
}

// One task yielding: park, set bit, pick, resume.
void BM_YieldRoundTrip(benchmark::State& state) {
    Pool p;
    NullPlatform plat;
    ExecutorConfig cfg;
    cfg.app_budget = 1;  // one resume per run_once
    auto ex = std::make_unique<Executor>(plat, cfg);
    int n = 0;
    (void)ex->spawn(yield_forever(ex.get(), &n));
    for (auto _ : state) ex->run_once(false);
    benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_YieldRoundTrip);

}  // namespace
}  // namespace ringlet::rt
