// vcheck sum: ringlet_chksum as the libOS uses it (the vector loop when the
// kernel says the hart has V, the scalar loop otherwise) against the scalar
// algorithm, in the guest, where the vector
// instructions really run (the host test checks the loop's arithmetic in
// portable C++ only): every length 0..1600 at every start offset 0..7 over
// random data, random lengths up to 64 KiB, and all-ones data (every add
// carries). Under -icount it also prints the instructions of one call
// over 1,050 bytes (a 1 KiB UDP echo's datagram), both ways.
#include "net/checksum.h"
#include "user/rt/syscall.h"
#include "user/vcheck/vcheck.h"

namespace ringlet::vcheck {
namespace {

constexpr size_t kBufBytes = 8 + 65536;
alignas(8) unsigned char g_buf[kBufBytes];

struct Rng {
    uint64_t s = 0x9e3779b97f4a7c15ull;
    uint64_t next() {  // xorshift64
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};


template <class F>
uint64_t instructions_per_call(F f) {
    constexpr uint64_t kCalls = 16;
    const uint64_t start = user::instret();
    for (uint64_t i = 0; i < kCalls; ++i) f();
    return (user::instret() - start) / kCalls;
}

}  // namespace

int check_checksum() {
    // What the libOS does at each core's start (ringlet_resources.cc).
    net::set_vector_checksum((user::hart_features() & kHartFeatureVector) != 0);
    const char* kKind = net::vector_checksum() ? "vector" : "scalar";
    Rng rng;
    for (auto& b : g_buf) b = static_cast<unsigned char>(rng.next());
    uint64_t cases = 0, bad = 0;
    auto check = [&](size_t off, size_t len) {
        const uint16_t got = ringlet_chksum(g_buf + off, static_cast<int>(len));
        const uint16_t want = net::chksum_scalar(g_buf + off, static_cast<int>(len));
        ++cases;
        if (got != want && ++bad <= 5)
            user::printf("vcheck: offset %lu length %lu: %04x, scalar %04x\n", off, len, got, want);
    };
    for (size_t off = 0; off < 8; ++off) {
        for (size_t len = 0; len <= 1600; ++len) check(off, len);
    }
    for (int i = 0; i < 200; ++i) check(rng.next() & 7, rng.next() % 65536);
    for (size_t i = 0; i < kBufBytes; ++i) g_buf[i] = 0xff;
    for (size_t off = 0; off < 8; ++off) {
        for (size_t len : {3u, 1500u, 9000u, 65535u}) check(off, len);
    }
    if (bad != 0) {
        user::printf("vcheck: ringlet_chksum (%s) differs from the scalar sum in %lu of %lu cases\n", kKind, bad,
                     cases);
        return 1;
    }
    user::printf("vcheck: ringlet_chksum (%s) equals the scalar sum in %lu cases, offsets 0-7\n", kKind, cases);

    volatile uint16_t sink = 0;
    const uint64_t built = instructions_per_call([&] { sink = ringlet_chksum(g_buf + 2, 1050); });
    const uint64_t scalar = instructions_per_call([&] { sink = net::chksum_scalar(g_buf + 2, 1050); });
    user::printf("vcheck: 1050 bytes: ringlet_chksum (%s) %lu instructions, scalar %lu\n", kKind, built, scalar);
    (void)sink;
    return 0;
}

}  // namespace ringlet::vcheck
