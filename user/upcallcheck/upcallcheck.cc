// upcallcheck: the kernel's upcall (include/ringlet/syscall_abi.h
// kSysUpcall, kernel/sched/upcall.h) as an app sees it.
//   1. Bad calls are refused: a return outside an upcall, a misaligned
//      stack or area, no period, an area in read-only memory.
//   2. An app whose UpcallArea says its libOS runs (odd seq), or keeps
//      being called (seq moving), gets no upcall, however long it runs.
//   3. An app whose code runs on with the area idle gets upcalls, a period
//      apart, on their own stack; each one clobbers every register it can
//      (integer, FP, and the vector unit where the hart has one), and the
//      spinning code (spin.S) finds every register as it left it when the
//      upcalls have come and gone.
// Prints "upcallcheck: ok ..." and exits 0, or says what was wrong.
#include "ringlet/syscall_abi.h"
#include "user/rt/syscall.h"
#include "user/rt/upcall.h"

extern "C" void upcallcheck_spin(volatile uint64_t* count, uint64_t target, uint64_t* dump, uint64_t vector);

namespace {

using namespace ringlet;

UpcallArea g_area{};
volatile uint64_t g_count = 0;
constexpr uint64_t kMaxVlenb = 64;
uint64_t g_dump[66 + 32 * kMaxVlenb / 8];
alignas(16) uint8_t g_stack[16384];
const UpcallArea kReadOnlyArea{};  // .rodata: not writable

constexpr uint64_t kBase = 0x5a5a000000000000ull;

void clobber(void*) {
    g_count = g_count + 1;
    // What the upcall's own code might do to the unit registers.
    asm volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fmv.d.x f\\n, zero\n"
        ".endr\n" ::
            : "memory", "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "ft8", "ft9", "ft10", "ft11", "fa0",
              "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs0", "fs1", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
              "fs8", "fs9", "fs10", "fs11");
    if (user::hart_features() & kHartFeatureVector) {
        asm volatile(
            ".option push\n.option arch, +v\n"
            "vsetvli t0, zero, e8, m8, ta, ma\n"
            "vmv.v.i v0, -1\n vmv.v.i v8, -1\n vmv.v.i v16, -1\n vmv.v.i v24, -1\n"
            ".option pop" ::
                : "t0", "memory");
    }
}

int fail(const char* what, uint64_t got, uint64_t want) {
    user::printf("upcallcheck: FAILED: %s: 0x%lx, want 0x%lx\n", what, got, want);
    return 1;
}

uint64_t arm(uint64_t entry, uint64_t stack, uint64_t area, uint64_t period) {
    return user::syscall(kSysUpcall, kUpcallArm, entry, stack, area, period).error;
}

// 1.
int check_refusals() {
    const uint64_t entry = reinterpret_cast<uint64_t>(&upcallcheck_spin);
    const uint64_t stack = reinterpret_cast<uint64_t>(g_stack + sizeof g_stack);
    const uint64_t area = reinterpret_cast<uint64_t>(&g_area);
    struct Case {
        const char* what;
        uint64_t error;
        uint64_t want;
    } cases[] = {
        {"return outside an upcall", user::syscall(kSysUpcall, kUpcallReturn).error, uint64_t(Error::InvalidArgument)},
        {"misaligned stack", arm(entry, stack - 8, area, 1000), uint64_t(Error::InvalidArgument)},
        {"misaligned area", arm(entry, stack, area + 4, 1000), uint64_t(Error::InvalidArgument)},
        {"no period", arm(entry, stack, area, 0), uint64_t(Error::InvalidArgument)},
        {"read-only area", arm(entry, stack, reinterpret_cast<uint64_t>(&kReadOnlyArea), 1000),
         uint64_t(Error::BadAddress)},
        {"kernel address", arm(0xffffffc000000000ull, stack, area, 1000), uint64_t(Error::BadAddress)},
        {"unknown op", user::syscall(kSysUpcall, 7).error, uint64_t(Error::InvalidArgument)},
    };
    for (const Case& c : cases)
        if (c.error != c.want) return fail(c.what, c.error, c.want);
    return 0;
}

// Spins (in C) for `ticks` with the area as the caller set it, moving `seq`
// on by 2 (a call made and returned from) on each turn if asked.
void spin_for(uint64_t ticks, bool calls) {
    volatile uint64_t& seq = g_area.seq;  // the kernel reads it: every store must happen
    const uint64_t end = user::now() + ticks;
    while (user::now() < end) {
        if (calls) seq = seq + 2;
    }
}

}  // namespace

int main() {
    if (int r = check_refusals(); r != 0) return r;
    const uint64_t ms = user::timebase_hz() / 1000;
    if (auto r = user::arm_upcall(&clobber, nullptr, g_area, ms); !r) return fail("arm", uint64_t(r.error()), 0);
    // 2. Busy, then entering all the time: 30 periods, no upcall.
    volatile uint64_t& seq = g_area.seq;
    seq = 1;  // inside the libOS
    spin_for(15 * ms, false);
    seq = 2;  // calling it all the time
    spin_for(15 * ms, true);
    if (g_count != 0) return fail("upcalls while the libOS ran", g_count, 0);
    // 3. Idle: upcalls come, and the registers survive them.
    const bool vector = (user::hart_features() & kHartFeatureVector) != 0;
    const uint64_t start = user::now();
    upcallcheck_spin(&g_count, 20, g_dump, vector ? 1 : 0);
    const uint64_t took = user::now() - start;
    if (user::upcalls_run() < 20) return fail("upcalls run", user::upcalls_run(), 20);
    for (uint64_t n : {1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28})
        if (g_dump[n] != kBase + n * 0x10001) return fail("an integer register", g_dump[n], kBase + n * 0x10001);
    for (uint64_t n = 0; n < 32; ++n)
        if (g_dump[32 + n] != kBase + (0x100 + n) * 0x10001)
            return fail("an FP register", g_dump[32 + n], kBase + (0x100 + n) * 0x10001);
    if (vector) {
        uint64_t vlenb;
        asm volatile(".option push\n.option arch, +v\ncsrr %0, vlenb\n.option pop" : "=r"(vlenb));
        if (g_dump[64] != 3) return fail("vl", g_dump[64], 3);
        if (g_dump[65] != (2u << 3 | 1u)) return fail("vtype", g_dump[65], 2u << 3 | 1u);
        const uint64_t lanes = vlenb;  // e64 lanes in a group of 8 registers
        for (uint64_t g = 0; g < 4 && vlenb <= kMaxVlenb; ++g)
            for (uint64_t i = 0; i < lanes; ++i) {
                const uint64_t want = kBase + 0x200 * 0x10001 + g * 0x100 + i;
                if (g_dump[66 + g * lanes + i] != want) return fail("a vector register", g_dump[66 + g * lanes + i], want);
            }
    }
    user::disarm_upcall();
    const uint64_t after = g_count;
    spin_for(10 * ms, false);
    if (g_count != after) return fail("upcalls after disarm", g_count, after);
    user::printf("upcallcheck: ok: bad calls refused, none while busy, %lu upcalls in %lu ms of spinning, "
                 "x1-x31 f0-f31%s intact\n",
                 after, took / ms, vector ? " v0-v31 vl vtype" : "");
    return 0;
}
