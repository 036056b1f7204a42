// vcheck regs: the vector state an app sees survives its sleeps. Each
// round writes a pattern of (seed, round) into v0-v31 (64-bit lanes, every
// lane and register different), sets vl, vtype and vcsr to values of the
// seed, sleeps through the kernel (another app on the hart runs and writes
// its own pattern meanwhile), then reads it all back. Only a kernel that
// saves and restores the vector state on a dispatcher switch passes with
// two of these on one hart. The asm enables V itself (.option arch), so
// every build has the app; GCC 12 never touches a vector register.
#include "user/rt/syscall.h"
#include "user/vcheck/vcheck.h"

namespace ringlet::vcheck {
namespace {

// Up to VLEN 512: 32 registers of 64 bytes.
constexpr uint64_t kMaxVlenb = 64;
uint64_t g_dump[32 * kMaxVlenb / 8];

struct Scalars {
    uint64_t vl, vtype, vcsr;
};

// vtype for even seeds: e32, m1, tail/mask undisturbed; odd: e16, m2,
// tail/mask agnostic (vsew in bits 5:3, vlmul 2:0, vta 6, vma 7).
uint64_t vtype_of(uint64_t seed) { return seed & 1 ? (1u << 3 | 1u | 1u << 6 | 1u << 7) : 2u << 3; }
// vl 1..3: within VLMAX of both vtypes at the smallest VLEN (128).
uint64_t vl_of(uint64_t seed) { return 1 + seed % 3; }
uint64_t base_of(uint64_t seed, uint64_t round) { return seed << 44 | round << 24; }
// Lane i of the register group starting at v(8g) holds base + g << 16 + i.
constexpr uint64_t kGroupStep = 1ull << 16;

void fill(uint64_t base, const Scalars& s) {
    asm volatile(
        ".option push\n.option arch, +v\n"
        "vsetvli t0, zero, e64, m8, ta, ma\n"
        "vid.v v0\n vadd.vx v0, v0, %[b]\n add %[b], %[b], %[step]\n"
        "vid.v v8\n vadd.vx v8, v8, %[b]\n add %[b], %[b], %[step]\n"
        "vid.v v16\n vadd.vx v16, v16, %[b]\n add %[b], %[b], %[step]\n"
        "vid.v v24\n vadd.vx v24, v24, %[b]\n"
        "vsetvl zero, %[vl], %[vtype]\n"
        "csrw vcsr, %[vcsr]\n"
        ".option pop"
        : [b] "+r"(base)
        : [step] "r"(kGroupStep), [vl] "r"(s.vl), [vtype] "r"(s.vtype), [vcsr] "r"(s.vcsr)
        : "t0", "memory");
}

Scalars dump(uint64_t vlenb) {
    Scalars s;
    asm volatile(
        ".option push\n.option arch, +v\n"
        "csrr %[vl], vl\n csrr %[vtype], vtype\n csrr %[vcsr], vcsr\n"
        "mv t1, %[buf]\n"
        "vs8r.v v0, (t1)\n add t1, t1, %[group]\n"
        "vs8r.v v8, (t1)\n add t1, t1, %[group]\n"
        "vs8r.v v16, (t1)\n add t1, t1, %[group]\n"
        "vs8r.v v24, (t1)\n"
        ".option pop"
        : [vl] "=&r"(s.vl), [vtype] "=&r"(s.vtype), [vcsr] "=&r"(s.vcsr)
        : [buf] "r"(g_dump), [group] "r"(vlenb * 8)
        : "t1", "memory");
    return s;
}

}  // namespace

int check_registers(uint64_t seed, uint64_t rounds) {
    uint64_t vlenb;
    asm volatile(".option push\n.option arch, +v\ncsrr %0, vlenb\n.option pop" : "=r"(vlenb));
    if (vlenb == 0 || vlenb > kMaxVlenb) {
        user::printf("vcheck: VLEN %lu bits not handled\n", vlenb * 8);
        return 1;
    }
    const Scalars want{vl_of(seed), vtype_of(seed), seed & 7};  // vcsr: vxrm (2 bits), vxsat
    const uint64_t nap = user::timebase_hz() / 10000 + 1;        // 100 us
    const uint64_t lanes = vlenb;                                // 64-bit lanes in a group of 8
    for (uint64_t round = 0; round < rounds; ++round) {
        const uint64_t base = base_of(seed, round);
        fill(base, want);
        (void)user::syscall(kSysWait, 0, user::now() + nap);
        const Scalars got = dump(vlenb);
        if (got.vl != want.vl || got.vtype != want.vtype || got.vcsr != want.vcsr) {
            user::printf("vcheck: seed %lu round %lu: vl %lu vtype %lx vcsr %lx, want %lu %lx %lx\n", seed, round,
                         got.vl, got.vtype, got.vcsr, want.vl, want.vtype, want.vcsr);
            return 1;
        }
        for (uint64_t g = 0; g < 4; ++g) {
            for (uint64_t i = 0; i < lanes; ++i) {
                const uint64_t v = g_dump[g * lanes + i];
                if (v != base + g * kGroupStep + i) {
                    user::printf("vcheck: seed %lu round %lu: group v%lu lane %lu is %lx, want %lx\n", seed, round,
                                 g * 8, i, v, base + g * kGroupStep + i);
                    return 1;
                }
            }
        }
    }
    user::printf("vcheck: seed %lu: v0-v31, vl, vtype, vcsr intact over %lu sleeps (VLEN %lu)\n", seed, rounds,
                 vlenb * 8);
    return 0;
}

}  // namespace ringlet::vcheck
