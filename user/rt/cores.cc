#include "user/rt/cores.h"

#include "user/rt/heap.h"
#include "user/rt/syscall.h"
#include "user/rt/tls.h"

extern "C" void _core_start();

namespace ringlet::user {

// What a new core needs to begin (ringlet_core_start reads it).
struct CoreStart {
    CoreMain fn;
    void* arg;
};

namespace {

// From the app heap (its largest class is 64 KiB), so an app that never
// spans carries no stacks for cores it does not start.
constexpr uint64_t kCoreStackBytes = 60 * 1024;

// One start block per possible core; slot i is taken by the core started on
// hart i (one core per hart), so no two starts share one. Its stack and
// thread-local block are made once and kept: a refused start (Busy) leaks
// nothing and a later one reuses them.
CoreStart g_starts[kMaxCores];
unsigned char* g_stacks[kMaxCores];
void* g_tls[kMaxCores];

}  // namespace

uint64_t placement_harts() {
    auto r = as_result(syscall(kSysAppHarts));
    return r ? *r : 0;
}

Result<void> start_core(uint32_t hart_index, CoreMain fn, void* arg) {
    if (hart_index >= kMaxCores) return Error::OutOfRange;
    const CapIndex hart_cap = TRY(find_start_cap(kCapHart, hart_index));  // the right to run there
    if (g_tls[hart_index] == nullptr) g_tls[hart_index] = TRY(tls_block_create());
    if (g_stacks[hart_index] == nullptr) {
        g_stacks[hart_index] = static_cast<unsigned char*>(heap_try_allocate(kCoreStackBytes));
        if (g_stacks[hart_index] == nullptr) return Error::OutOfMemory;
    }
    void* tls = g_tls[hart_index];
    g_starts[hart_index] = CoreStart{fn, arg};
    const uint64_t stack_top = reinterpret_cast<uint64_t>(g_stacks[hart_index] + kCoreStackBytes) & ~uint64_t{15};
    TRY(as_result(syscall(kSysDispatcherSpan, hart_cap, reinterpret_cast<uint64_t>(&_core_start), stack_top,
                          reinterpret_cast<uint64_t>(tls), reinterpret_cast<uint64_t>(&g_starts[hart_index]))));
    return {};
}

uint32_t start_placed_cores(CoreMain fn, uint32_t max_cores, const char* who) {
    const uint64_t harts = placement_harts();
    const uint64_t mine = hart_index();
    uint32_t next = 1;
    for (uint32_t h = 0; h < 64 && next < max_cores; ++h) {
        if (!(harts & (1ull << h)) || h == mine) continue;
        if (!start_core(h, fn, reinterpret_cast<void*>(uintptr_t{next}))) {
            printf("%s: cannot start a core\n", who);
            continue;
        }
        ++next;
    }
    return next;
}

}  // namespace ringlet::user

// A further core's first C++: its tp is set; record where it runs and go.
extern "C" [[noreturn]] void ringlet_core_start(uint64_t hart_index, ringlet::user::CoreStart* start,
                                                uint64_t features) {
    using namespace ringlet::user;
    check_tls();
    set_hart_index(hart_index);
    set_hart_features(features);
    exit(start->fn(start->arg));
}
