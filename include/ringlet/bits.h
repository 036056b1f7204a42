// Bit scans shared by kernel, libOS and drivers.
//
// count_trailing_zeros is on the hot path (the executor's pick-next, virtqueue
// descriptor and slot allocation). With Zbb (RINGLET_ZBB, -march=..._zbb) or
// on the host, __builtin_ctzll is one instruction. A plain rv64gc build would
// turn it into a call to libgcc's __ctzdi2 (about 50 instructions); there the
// de Bruijn form below is used instead: isolate the lowest set bit, multiply,
// look the top six bits up in a 64-entry table — branch-free, ~10 instructions.
// Freestanding: no <bit>, no std containers.
#pragma once

#include <stdint.h>

namespace ringlet {

namespace detail {

// A de Bruijn sequence B(2, 6): each of its 64 six-bit windows is distinct, so
// (v << i) >> 58 names i uniquely for every i in 0..63.
inline constexpr uint64_t kDeBruijn64 = 0x03f79d71b4cb0a89ull;

struct CtzTable {
    uint8_t index[64];
};

constexpr CtzTable make_ctz_table() {
    CtzTable t{};
    for (uint32_t i = 0; i < 64; ++i) t.index[(kDeBruijn64 << i) >> 58] = static_cast<uint8_t>(i);
    return t;
}

inline constexpr CtzTable kCtzTable = make_ctz_table();

// Every window distinct <=> the table is a permutation of 0..63.
constexpr bool ctz_table_is_permutation() {
    bool seen[64] = {};
    for (uint32_t i = 0; i < 64; ++i) {
        if (seen[kCtzTable.index[i]]) return false;
        seen[kCtzTable.index[i]] = true;
    }
    return true;
}
static_assert(ctz_table_is_permutation(), "kDeBruijn64 is not a de Bruijn sequence");

}  // namespace detail

// Number of zero bits below the lowest set bit of x, without a branch or a
// libgcc call. Precondition: x != 0 (x == 0 gives 0, not 64).
constexpr uint32_t count_trailing_zeros_debruijn(uint64_t x) {
    return detail::kCtzTable.index[((x & (0 - x)) * detail::kDeBruijn64) >> 58];
}

// Number of zero bits below the lowest set bit of x. Precondition: x != 0.
inline uint32_t count_trailing_zeros(uint64_t x) {
#if defined(__riscv_zbb) || !defined(__riscv)
    return static_cast<uint32_t>(__builtin_ctzll(x));
#else
    return count_trailing_zeros_debruijn(x);
#endif
}

}  // namespace ringlet
