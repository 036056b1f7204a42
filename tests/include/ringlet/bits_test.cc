// count_trailing_zeros (include/ringlet/bits.h): the de Bruijn fallback a
// plain rv64gc build uses, checked on every single bit and on random values
// against the compiler's builtin (the host has a ctz instruction).
#include "ringlet/bits.h"

#include <gtest/gtest.h>

#include <stdint.h>

#include <random>

namespace ringlet {
namespace {

TEST(BitsTest, DeBruijnEverySingleBit) {
    for (uint32_t i = 0; i < 64; ++i) {
        EXPECT_EQ(count_trailing_zeros_debruijn(uint64_t{1} << i), i) << "bit " << i;
        EXPECT_EQ(count_trailing_zeros(uint64_t{1} << i), i) << "bit " << i;
    }
}

TEST(BitsTest, DeBruijnEveryLowestBitWithAllHigherBitsSet) {
    for (uint32_t i = 0; i < 64; ++i) {
        const uint64_t x = ~uint64_t{0} << i;
        EXPECT_EQ(count_trailing_zeros_debruijn(x), i) << "bits " << i << "..63";
    }
}

TEST(BitsTest, DeBruijnMatchesBuiltinOnRandomValues) {
    std::mt19937_64 rng(13);
    for (int n = 0; n < 1000000; ++n) {
        // Shift the random word so low zero runs of every length occur.
        const uint64_t x = (rng() | 1) << (n % 64);
        ASSERT_EQ(count_trailing_zeros_debruijn(x), static_cast<uint32_t>(__builtin_ctzll(x))) << std::hex << x;
        ASSERT_EQ(count_trailing_zeros(x), static_cast<uint32_t>(__builtin_ctzll(x))) << std::hex << x;
    }
}

// Usable in constant expressions (the table is built at compile time).
static_assert(count_trailing_zeros_debruijn(0x8000000000000000ull) == 63);
static_assert(count_trailing_zeros_debruijn(0x28) == 3);

}  // namespace
}  // namespace ringlet
