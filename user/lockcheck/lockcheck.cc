// Checks of the kernel's locking, read in instructions with rdinstret: exact
// under QEMU -icount, where the harts take turns (QEMU's round-robin slice)
// and an instruction a hart spends spinning on a lock is retired, and
// counted, like any other.
//
//   lockcheck contend:BOUND[:ROUNDS]   (init=lockcheck:contend:BOUND@0)
//       Measures ROUNDS round trips of `wait` (a deadline already past) and
//       of `cap_identify` + `wait`, first alone, then while another app
//       (`lockcheck hog`, started on hart 1 with a 16 MiB pool carved from
//       this app's budget and a page they share) loops frame_alloc of 4 MiB
//       (1024 pages, zeroed by the kernel) and cap_delete, counting them in
//       the shared page. The rounds run in 20 windows with a short sleep
//       between them: under -icount a hart that never idles keeps the other
//       one stopped (QEMU's round-robin), so each window finds the hog
//       stopped wherever the sleep left it in its loop — inside the kernel's
//       frame_alloc, most likely zeroing. Exits 1 if the longest round trip
//       beside the hog exceeds BOUND instructions, or if the hog made fewer
//       allocations during the measurement than there are windows. Deleting
//       the pool at the end takes the hog's capabilities with it: it exits,
//       and this app waits until it has ended (its dispatcher cap says so).
//   lockcheck fragment   (init=lockcheck:fragment app_mem=MiB covering RAM)
//       Takes all free RAM in frames of 1 MiB (then smaller, for the rest),
//       gives every other 1 MiB frame back — so no free run is longer than
//       256 pages (frame_alloc of 257 is refused) — and starts `hello`, whose
//       data segment is 257 pages: the loader must map it in pieces.
//   lockcheck unmap:N[:span]
//       Maps and unmaps one frame N times (each unmap is a TLB shootdown);
//       with `span`, a core on hart 1 idles meanwhile, so the app's address
//       space is live there. The kernel counts the shootdown IPIs it sends
//       (printed at power-off).
#include <string.h>

#include "user/rt/cores.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

constexpr uint64_t kAllocPages = 1024;  // 4 MiB, the most one frame_alloc takes
constexpr uint64_t kHogPool = 16ull << 20;
constexpr uint64_t kMapVa = 0x1000000000;
constexpr uint64_t kCounterVa = 0x1100000000;  // contend/hog: the shared page
constexpr uint64_t kWindows = 20;

uint32_t g_stop;  // unmap:span: core 0 is done (atomic)

uint64_t parse_u64(const char* s) {
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + static_cast<uint64_t>(*s - '0');
    return v;
}

// Sleeps `ticks` of the timebase: the hart idles (WFI), so QEMU runs the
// other hart meanwhile.
void sleep_ticks(uint64_t ticks) {
    const uint64_t deadline = user::now() + ticks;
    while (user::now() < deadline) (void)user::syscall(kSysWait, 0, deadline);
}

// The hog's allocation count, in the page both map.
uint64_t* counter() { return reinterpret_cast<uint64_t*>(kCounterVa); }

struct Worst {
    uint64_t wait = 0;      // longest wait round trip
    uint64_t cap_call = 0;  // longest cap_identify + wait
};

Worst measure(uint64_t rounds) {
    const CapIndex pool = user::memory_cap();
    Worst w;
    for (uint64_t i = 0; i < rounds; ++i) {
        if (i % (rounds / kWindows) == 0) sleep_ticks(10);  // the other hart runs on
        uint64_t t0 = user::instret();
        (void)user::syscall(kSysWait, 0, 1);  // deadline long past: straight back
        uint64_t t1 = user::instret();
        (void)user::syscall(kSysCapIdentify, pool);
        (void)user::syscall(kSysWait, 0, 1);
        uint64_t t2 = user::instret();
        if (t1 - t0 > w.wait) w.wait = t1 - t0;
        if (t2 - t1 > w.cap_call) w.cap_call = t2 - t1;
    }
    return w;
}

int hog() {
    auto page = user::find_start_cap(kCapFrame);
    if (!page || user::syscall(kSysFrameMap, *page, kCounterVa, kUserMapRead | kUserMapWrite).error) {
        user::print("lockcheck: hog: no shared page\n");
        return 1;
    }
    uint64_t allocs = 0;
    for (;;) {
        auto f = user::frame_alloc(kAllocPages);
        if (f.error) break;  // the pool was taken back: done
        (void)user::syscall(kSysCapDelete, f.value);
        __atomic_store_n(counter(), ++allocs, __ATOMIC_RELEASE);
    }
    user::printf("lockcheck: hog done after %lu allocations\n", allocs);
    return 0;
}

int contend(uint64_t bound, uint64_t rounds) {
    if (rounds < kWindows) rounds = kWindows;
    const Worst alone = measure(rounds);
    user::printf("lockcheck: alone: longest wait round trip %lu, cap call + wait %lu instructions\n", alone.wait,
                 alone.cap_call);
    const auto pool = user::syscall(kSysCapMint, user::memory_cap(), kRightAll, 0, kHogPool);
    if (pool.error) {
        user::printf("lockcheck: cannot carve a pool: %s\n", error_name(static_cast<Error>(pool.error)));
        return 1;
    }
    auto page = user::frame_alloc(1);
    if (page.error || user::syscall(kSysFrameMap, page.value, kCounterVa, kUserMapRead | kUserMapWrite).error) {
        user::print("lockcheck: cannot map the shared page\n");
        return 1;
    }
    const StartGift gifts[2] = {{pool.value, kRightAll, 0}, {page.value, kRightAll, 0}};
    auto hog_cap = user::start_app("lockcheck hog", 1, gifts, 2);
    if (!hog_cap) {
        user::printf("lockcheck: cannot start the hog on hart 1: %s\n", error_name(hog_cap.error()));
        return 1;
    }
    // Until its loop runs (or it has ended).
    while (__atomic_load_n(counter(), __ATOMIC_ACQUIRE) == 0 && user::syscall(kSysCapIdentify, *hog_cap).value >> 32)
        sleep_ticks(1000);
    const uint64_t before = __atomic_load_n(counter(), __ATOMIC_ACQUIRE);
    const Worst beside = measure(rounds);
    const uint64_t during = __atomic_load_n(counter(), __ATOMIC_ACQUIRE) - before;
    (void)user::syscall(kSysCapDelete, pool.value);  // the hog's budget goes; it ends
    // Until it has ended (cap_identify of a dispatcher cap: info 1 while it runs).
    while (user::syscall(kSysCapIdentify, *hog_cap).value >> 32) sleep_ticks(1000);
    user::printf("lockcheck: beside %lu frame_alloc of 4 MiB on hart 1: longest wait round trip %lu, "
                 "cap call + wait %lu instructions (bound %lu)\n",
                 during, beside.wait, beside.cap_call, bound);
    if (during < kWindows) {
        user::print("lockcheck: the allocation loop did not overlap the measurement\n");
        return 1;
    }
    if (beside.wait > bound || beside.cap_call > bound) {
        user::print("lockcheck: a round trip beside the allocation loop exceeded the bound\n");
        return 1;
    }
    user::print("lockcheck: contention within the bound\n");
    return 0;
}

int fragment() {
    constexpr uint64_t kRun = 256;  // pages: 1 MiB
    CapIndex held[112];
    size_t count = 0, big = 0;
    for (uint64_t pages = kRun; pages >= 1; pages /= 2) {
        for (;;) {
            if (count == sizeof held / sizeof held[0]) {
                user::print("lockcheck: fragment: more frames than slots (use a smaller RAM)\n");
                return 1;
            }
            auto f = user::frame_alloc(pages);
            if (f.error) break;
            held[count++] = f.value;
            if (pages == kRun) big = count;
        }
    }
    for (size_t i = 0; i < big; i += 2) (void)user::syscall(kSysCapDelete, held[i]);  // every other 1 MiB
    const auto longer = user::frame_alloc(kRun + 1);
    user::printf("lockcheck: fragment: %zu frames, %zu of 1 MiB (every other one given back); "
                 "a run of %lu pages: %s\n",
                 count, big, kRun + 1, longer.error ? error_name(static_cast<Error>(longer.error)) : "found");
    if (!longer.error) return 1;
    auto hello = user::start_app("hello", user::hart_index());
    if (!hello) {
        user::printf("lockcheck: fragment: cannot start hello: %s\n", error_name(hello.error()));
        return 1;
    }
    while (user::syscall(kSysCapIdentify, *hello).value >> 32) sleep_ticks(1000);  // until it has ended
    user::print("lockcheck: fragment: hello loaded in pieces\n");
    return 0;
}

int idle_core(void*) {
    while (__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE) == 0) sleep_ticks(1000);
    for (;;) sleep_ticks(1000000);
}

int unmap(uint64_t count, bool span) {
    if (span) {
        if (auto r = user::start_core(1, idle_core, nullptr); !r) {
            user::printf("lockcheck: cannot start a core on hart 1: %s\n", error_name(r.error()));
            return 1;
        }
    }
    auto f = user::frame_alloc(1);
    if (f.error) return 1;
    for (uint64_t i = 0; i < count; ++i) {
        if (user::syscall(kSysFrameMap, f.value, kMapVa, kUserMapRead | kUserMapWrite).error ||
            user::syscall(kSysFrameUnmap, f.value, kMapVa).error) {
            user::print("lockcheck: map/unmap failed\n");
            return 1;
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
    user::printf("lockcheck: %lu unmaps done%s\n", count, span ? " (spanning harts 0 and 1)" : "");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && strcmp(argv[1], "hog") == 0) return hog();
    if (argc >= 2 && strcmp(argv[1], "fragment") == 0) return fragment();
    if (argc >= 3 && strcmp(argv[1], "contend") == 0)
        return contend(parse_u64(argv[2]), argc >= 4 ? parse_u64(argv[3]) : 5000);
    if (argc >= 3 && strcmp(argv[1], "unmap") == 0)
        return unmap(parse_u64(argv[2]), argc >= 4 && strcmp(argv[3], "span") == 0);
    user::print("usage: lockcheck contend:BOUND[:ROUNDS] | hog | fragment | unmap:N[:span]\n");
    return 2;
}
