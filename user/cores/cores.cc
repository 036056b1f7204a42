// Checks an app spanning several harts (user/rt/cores.h): it starts a core on
// every hart init= asked it to run on, each core proves its thread-local state is its
// own, and the kernel's rules for spanning hold (one core per hart, only
// a Hart cap is the authority). With --fault K, core K then faults, which must end the
// app on every hart (the kernel says so on the console).
//   cores [--fault K]
#include <string.h>

#include "user/rt/cores.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

constexpr uint32_t kNone = ~0u;

// Shared by the cores: each writes only its own slot, core 0 reads them.
uint64_t g_seen_hart[user::kMaxCores];
uint64_t g_seen_features[user::kMaxCores];
uint32_t g_up;                 // cores that checked in (atomic)
uint32_t g_fault_core = kNone;
uint32_t g_checked;            // core 0 finished its checks (atomic)

// Per core: each core writes its own copy; another core's write must not show.
thread_local uint64_t t_mark;

void sleep_ms(uint64_t ms) {
    const uint64_t deadline = user::now() + user::timebase_hz() / 1000 * ms;
    while (user::now() < deadline) (void)user::syscall(kSysWait, 0, deadline);
}

// What every core does once up: mark its thread-local block, check in, and
// look again after the others have written theirs.
bool check_in(uint32_t hart) {
    t_mark = 0x1000 + hart;
    g_seen_hart[hart] = user::hart_index();
    g_seen_features[hart] = user::hart_features();
    __atomic_fetch_add(&g_up, 1, __ATOMIC_ACQ_REL);
    sleep_ms(20);
    return t_mark == 0x1000 + hart;
}

int core_main(void* arg) {
    const auto hart = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(arg));
    if (!check_in(hart)) {
        user::printf("cores: core %u: thread-local state changed under it\n", hart);
        return 1;
    }
    while (!__atomic_load_n(&g_checked, __ATOMIC_ACQUIRE)) sleep_ms(10);
    if (hart == g_fault_core) {
        user::printf("cores: core %u faulting on purpose\n", hart);
        uintptr_t address = 8;  // through an asm barrier: the compiler cannot see it is null
        asm volatile("" : "+r"(address));
        *reinterpret_cast<volatile uint64_t*>(address) = 1;
    }
    for (;;) sleep_ms(1000);  // the app ends from core 0 (or the fault)
}

uint32_t parse_u32(const char* s) {
    uint32_t v = 0;
    for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + static_cast<uint32_t>(*s - '0');
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; ++i)
        if (strcmp(argv[i], "--fault") == 0) g_fault_core = parse_u32(argv[i + 1]);
    const uint32_t self = static_cast<uint32_t>(user::hart_index());
    const uint64_t placement = user::placement_harts();
    user::printf("cores: on hart %u, asked to run on harts 0x%lx\n", self, placement);
    uint32_t expected = 1;
    for (uint32_t h = 0; h < user::kMaxCores; ++h) {
        if (h == self || !(placement >> h & 1)) continue;
        if (auto r = user::start_core(h, core_main, reinterpret_cast<void*>(uintptr_t{h})); !r) {
            user::printf("cores: cannot start a core on hart %u: %s\n", h, error_name(r.error()));
            return 1;
        }
        ++expected;
    }
    if (!check_in(self)) {
        user::print("cores: core 0: thread-local state changed under it\n");
        return 1;
    }
    for (int i = 0; i < 500 && __atomic_load_n(&g_up, __ATOMIC_ACQUIRE) < expected; ++i) sleep_ms(10);
    const uint32_t up = __atomic_load_n(&g_up, __ATOMIC_ACQUIRE);
    int failures = 0;
    for (uint32_t h = 0; h < user::kMaxCores; ++h) {
        if (!(placement >> h & 1)) continue;
        if (g_seen_hart[h] != h) {
            user::printf("cores: core on hart %u saw hart index %lu\n", h, g_seen_hart[h]);
            ++failures;
        }
    }
    // Every core learns its hart's features from the kernel at its start
    // (a6 / a2): QEMU's harts are alike, so all must say what core 0 does.
    for (uint32_t h = 0; h < user::kMaxCores; ++h) {
        if (!(placement >> h & 1) || g_seen_features[h] == g_seen_features[self]) continue;
        user::printf("cores: core on hart %u saw features 0x%lx, core 0 0x%lx\n", h, g_seen_features[h],
                     g_seen_features[self]);
        ++failures;
    }
    user::printf("cores: %u of %u cores up, hart features 0x%lx\n", up, expected, g_seen_features[self]);
    if (up != expected) ++failures;
    // The kernel's rules: one core per hart, only with a Hart cap.
    if (auto r = user::start_core(self, core_main, nullptr); r || r.error() != Error::Busy) {
        user::print("cores: a second core on my own hart was not refused with Busy\n");
        ++failures;
    }
    // The authority is a Hart cap: a span naming a forged cap, or a cap of
    // another type, is refused before anything starts.
    const uint64_t forged = user::syscall(kSysDispatcherSpan, 0x7777, 0x10000, 0x20000, 0, 0).error;
    const uint64_t wrong_type = user::syscall(kSysDispatcherSpan, user::memory_cap(), 0x10000, 0x20000, 0, 0).error;
    if (forged != static_cast<uint64_t>(Error::BadCapability) || wrong_type != static_cast<uint64_t>(Error::WrongType)) {
        user::printf("cores: span without a hart cap not refused (%lu, %lu)\n", forged, wrong_type);
        ++failures;
    }
    if (failures) return 1;
    user::print("cores: spanning checks passed\n");
    __atomic_store_n(&g_checked, 1, __ATOMIC_RELEASE);
    if (g_fault_core != kNone) {
        for (;;) sleep_ms(1000);  // core K faults; the kernel ends us all
    }
    return 0;
}
