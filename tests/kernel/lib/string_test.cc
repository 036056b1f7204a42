// The freestanding libc's memory functions (kernel/lib/mem_ops.h, wrapped as
// memcpy/memmove/memset/memcmp by kernel/lib/string.cc), exhaustively over
// sizes 0..300 and source/destination offsets 0..15 against byte-by-byte
// references. Every buffer has guard bytes around the target range: a store
// outside [dst, dst + n) is caught, and the word-wise reads past the ends (see
// mem_ops.h) stay inside the allocation, so ASan stays quiet.
#include "kernel/lib/mem_ops.h"

#include <gtest/gtest.h>

#include <stdint.h>

#include <random>
#include <vector>

namespace ringlet::lib {
namespace {

constexpr size_t kMaxSize = 300;
constexpr size_t kMaxOffset = 16;
constexpr size_t kGuard = 32;
// Aligned at 16 by the allocator; offsets 0..15 cover every residue mod 8.
constexpr size_t kBufSize = kGuard + kMaxOffset + kMaxSize + kGuard;

std::vector<unsigned char> pattern(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<unsigned char> v(n);
    for (auto& b : v) b = static_cast<unsigned char>(rng());
    return v;
}

// Runs copy(dst, src, n) for every size and offset pair and compares the whole
// destination buffer with the expected one. With one_buffer, src and dst lie
// in the same buffer, so the ranges overlap in both directions (and coincide)
// at every distance below 16.
template <typename Copy>
void check_every_size_and_offset(Copy copy, bool one_buffer, uint32_t seed) {
    const std::vector<unsigned char> other = pattern(kBufSize, seed);
    const std::vector<unsigned char> clean = pattern(kBufSize, seed + 1);
    std::vector<unsigned char> dst, want;
    for (size_t n = 0; n <= kMaxSize; ++n) {
        for (size_t so = 0; so < kMaxOffset; ++so) {
            for (size_t doff = 0; doff < kMaxOffset; ++doff) {
                dst = clean;
                want = clean;
                const unsigned char* src = one_buffer ? clean.data() : other.data();
                for (size_t i = 0; i < n; ++i) want[kGuard + doff + i] = src[kGuard + so + i];
                copy(dst.data() + kGuard + doff, (one_buffer ? dst.data() : other.data()) + kGuard + so, n);
                ASSERT_EQ(dst, want) << "n=" << n << " src offset " << so << " dst offset " << doff;
            }
        }
    }
}

TEST(MemOpsTest, CopyForwardEverySizeAndAlignment) {
    check_every_size_and_offset(copy_forward, false, 1);
}

TEST(MemOpsTest, MoveOverlappingBothDirections) {
    check_every_size_and_offset(move, true, 3);
}

// move between disjoint buffers is a plain copy.
TEST(MemOpsTest, MoveDisjoint) {
    check_every_size_and_offset(move, false, 7);
}

// Overlaps farther apart than 16 bytes, where whole words move in between.
TEST(MemOpsTest, MoveOverlappingFarApart) {
    const std::vector<unsigned char> clean = pattern(kBufSize + 256, 4);
    std::vector<unsigned char> buf, want;
    for (size_t n : {17u, 64u, 100u, 255u, 300u}) {
        for (size_t so = 0; so < 256; so += 7) {
            for (size_t doff = 0; doff < 256; doff += 5) {
                buf = clean;
                want = clean;
                for (size_t i = 0; i < n; ++i) want[kGuard + doff + i] = clean[kGuard + so + i];
                move(buf.data() + kGuard + doff, buf.data() + kGuard + so, n);
                ASSERT_EQ(buf, want) << "n=" << n << " src offset " << so << " dst offset " << doff;
            }
        }
    }
}

TEST(MemOpsTest, FillEverySizeAndAlignment) {
    const std::vector<unsigned char> clean = pattern(kBufSize, 5);
    std::vector<unsigned char> buf, want;
    for (size_t n = 0; n <= kMaxSize; ++n) {
        for (size_t doff = 0; doff < kMaxOffset; ++doff) {
            for (unsigned char c : {0x00, 0xa5, 0xff}) {
                buf = clean;
                want = clean;
                for (size_t i = 0; i < n; ++i) want[kGuard + doff + i] = c;
                fill(buf.data() + kGuard + doff, c, n);
                ASSERT_EQ(buf, want) << "n=" << n << " offset " << doff << " c=" << int(c);
            }
        }
    }
}

int sign(int v) { return (v > 0) - (v < 0); }

TEST(MemOpsTest, CompareEverySizeAlignmentAndFirstDifference) {
    const std::vector<unsigned char> a = pattern(kBufSize, 6);
    for (size_t n = 0; n <= 80; ++n) {
        for (size_t ao = 0; ao < kMaxOffset; ++ao) {
            for (size_t bo = 0; bo < kMaxOffset; ++bo) {
                std::vector<unsigned char> b(kBufSize);
                for (size_t i = 0; i < n; ++i) b[bo + i] = a[ao + i];
                ASSERT_EQ(compare(a.data() + ao, b.data() + bo, n), 0) << "n=" << n;
                // A difference at each position, both ways; later bytes differ
                // the other way so only the first difference may decide.
                for (size_t at = 0; at < n; ++at) {
                    std::vector<unsigned char> c = b;
                    for (size_t i = at + 1; i < n; ++i) c[bo + i] = static_cast<unsigned char>(a[ao + i] - 1);
                    c[bo + at] = static_cast<unsigned char>(a[ao + at] + 1);
                    const int want = a[ao + at] < c[bo + at] ? -1 : 1;
                    ASSERT_EQ(sign(compare(a.data() + ao, c.data() + bo, n)), want) << "n=" << n << " at " << at;
                    ASSERT_EQ(sign(compare(c.data() + bo, a.data() + ao, n)), -want) << "n=" << n << " at " << at;
                }
            }
        }
    }
}

}  // namespace
}  // namespace ringlet::lib
