// A 64-bit one's-complement sum: eight bytes per aligned load, end-around
// carry added back at once (add, compare, add), folded to 16 bits at the end.
// About half an instruction per byte on rv64 (lwIP's generic C sum takes ~1.25).
//
// Why summing native little-endian words works (RFC 1071, section 2): the
// one's-complement sum is byte-order independent — summing byte-swapped
// words gives the byte-swapped sum — and 2^16 = 1 (mod 2^16 - 1), so a
// 16-bit lane contributes the same wherever it sits in a 32- or 64-bit word;
// only whether a byte sits at an even or odd address matters. The data is
// therefore summed by address (every load naturally aligned, none outside
// [data, data + len)) and the result swapped once if data starts at an odd
// address.
//
// Two bodies share the head, tail and fold below: the scalar 64-bit loop
// (every build) and, in every riscv64 build, a vector loop (RVV 1.0):
// 32-bit words loaded VLMAX at a time and widened into 64-bit lanes, one
// reduction at the end (no carry is ever lost: all lanes together take
// fewer than 2^29 words of < 2^32 for any int length). 144 instructions for
// 1,050 bytes at VLEN 128 (user/vcheck under -icount), against the scalar
// loop's 628. Which one runs is decided per call, like Linux's use of V
// where the CPU has it: the vector loop only on a core whose hart has V
// (set_vector_checksum), so one image serves a CPU with V (QEMU's default
// for Ringlet) and one without (the VisionFive 2's U74) alike.
#include "net/checksum.h"

#include <stddef.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ringlet_chksum sums native little-endian words");

namespace {

// may_alias: the buffer holds packets of any type.
using Word [[gnu::may_alias]] = uint64_t;
using Half [[gnu::may_alias]] = uint32_t;
using Quarter [[gnu::may_alias]] = uint16_t;

// acc + v with the carry out of bit 63 added back in (end-around carry).
inline uint64_t add_wrap(uint64_t acc, uint64_t v) {
    acc += v;
    return acc + (acc < v);
}

inline uint64_t load32(const unsigned char* p) { return *reinterpret_cast<const Half*>(p); }
inline uint64_t load16(const unsigned char* p) { return *reinterpret_cast<const Quarter*>(p); }

// Folds a 64-bit one's-complement sum to 16 bits; non-zero stays non-zero.
// Adding a value to itself rotated by half its width leaves the end-around
// sum of its two halves in the upper half: the carry out of the lower half
// is exactly the end-around carry (RFC 1071's folding, in 2 x 5 steps).
inline uint16_t fold(uint64_t s) {
    const uint64_t t = s + ((s >> 32) | (s << 32));
    const uint32_t x = static_cast<uint32_t>(t >> 32);
    const uint32_t u = x + ((x >> 16) | (x << 16));
    return static_cast<uint16_t>(u >> 16);
}

// The scalar body: the n >> 3 64-bit words at w (8-aligned) with end-around
// carries; 64 bytes a turn (the loop's own two instructions spread thinner:
// ~0.53 instructions per byte), then the 0-7 words left without a loop.
[[gnu::always_inline]] inline uint64_t words64_sum(const Word* w, size_t n) {
    uint64_t acc = 0;
    for (const Word* end = w + (n >> 6) * 8; w != end; w += 8) {
        acc = add_wrap(acc, w[0]);
        acc = add_wrap(acc, w[1]);
        acc = add_wrap(acc, w[2]);
        acc = add_wrap(acc, w[3]);
        acc = add_wrap(acc, w[4]);
        acc = add_wrap(acc, w[5]);
        acc = add_wrap(acc, w[6]);
        acc = add_wrap(acc, w[7]);
    }
    switch ((n >> 3) & 7) {
    case 7:
        acc = add_wrap(acc, w[6]);
        [[fallthrough]];
    case 6:
        acc = add_wrap(acc, w[5]);
        [[fallthrough]];
    case 5:
        acc = add_wrap(acc, w[4]);
        [[fallthrough]];
    case 4:
        acc = add_wrap(acc, w[3]);
        [[fallthrough]];
    case 3:
        acc = add_wrap(acc, w[2]);
        [[fallthrough]];
    case 2:
        acc = add_wrap(acc, w[1]);
        [[fallthrough]];
    case 1:
        acc = add_wrap(acc, w[0]);
        break;
    default:
        break;
    }
    return acc;
}

struct ScalarBody {
    // Sums the whole 8-byte words of [p, p + n) (p 8-aligned when n >= 8);
    // returns the bytes it consumed (a multiple of 8).
    [[gnu::always_inline]] size_t operator()(const unsigned char* p, size_t n, uint64_t& sum) const {
        sum = words64_sum(reinterpret_cast<const Word*>(p), n);
        return n & ~size_t{7};
    }
};

// The vector algorithm with `lanes` 64-bit lanes, in portable C++: the
// n >> 2 32-bit words strip-mined VLMAX (= lanes) at a time, word i of a
// strip widened into lane i, lanes past a short last strip left as they
// are (tail-undisturbed), then all lanes summed. What the RVV loop computes,
// step for step, so the host test can check its arithmetic.
struct LaneModelBody {
    size_t lanes;
    size_t operator()(const unsigned char* p, size_t n, uint64_t& sum) const {
        uint64_t acc[256] = {};
        const size_t words = n >> 2;
        for (size_t done = 0; done < words;) {
            const size_t vl = words - done < lanes ? words - done : lanes;
            for (size_t i = 0; i < vl; ++i) acc[i] += load32(p + 4 * (done + i));
            done += vl;
        }
        sum = 0;
        for (size_t i = 0; i < lanes; ++i) sum += acc[i];
        return words * 4;
    }
};

#if defined(__riscv)
// The RVV 1.0 body, assembled with `.option arch, +v` (the rest of the
// build stays rv64gc; it runs only where set_vector_checksum allowed it):
// vle32 at LMUL 4 into v8-v11, vwaddu.wv into the 64-bit
// accumulators v16-v23 (LMUL 8); whole strips (VLMAX words, a power of two)
// in a four-instruction loop, then one short strip tail-undisturbed so the
// other lanes' sums stay; vredsum.vs adds the lanes up (fewer than 2^29
// words of < 2^32 in all: no carry out of 64 bits). p is 4-aligned (vle32's
// element alignment) whenever n >= 4.
struct VectorBody {
    [[gnu::always_inline]] size_t operator()(const unsigned char* p, size_t n, uint64_t& sum) const {
        const size_t bytes = n & ~size_t{3};
        if (bytes == 0) {
            sum = 0;
            return 0;
        }
        uint64_t strip, end;
        asm volatile(
            ".option push\n"
            ".option arch, +v\n"
            "vsetvli %[strip], zero, e32, m8, ta, ma\n"
            "vmv.v.i v16, 0\n"
            "vsetvli %[strip], zero, e32, m4, ta, ma\n"
            "slli %[strip], %[strip], 2\n"  // bytes a strip
            "neg %[end], %[strip]\n"
            "and %[end], %[end], %[bytes]\n"
            "add %[end], %[end], %[p]\n"  // after the whole strips
            "beq %[p], %[end], 2f\n"
            "1:\n"
            "vle32.v v8, (%[p])\n"
            "vwaddu.wv v16, v16, v8\n"
            "add %[p], %[p], %[strip]\n"
            "bne %[p], %[end], 1b\n"
            "2:\n"
            "addi %[strip], %[strip], -1\n"
            "and %[strip], %[strip], %[bytes]\n"
            "srli %[strip], %[strip], 2\n"  // words left
            "beqz %[strip], 3f\n"
            "vsetvli zero, %[strip], e32, m4, tu, ma\n"
            "vle32.v v8, (%[p])\n"
            "vwaddu.wv v16, v16, v8\n"
            "3:\n"
            "vsetvli %[strip], zero, e64, m8, ta, ma\n"
            "vmv.s.x v8, zero\n"
            "vredsum.vs v8, v16, v8\n"
            "vmv.x.s %[sum], v8\n"
            ".option pop\n"
            : [strip] "=&r"(strip), [end] "=&r"(end), [sum] "=r"(sum), [p] "+r"(p)
            : [bytes] "r"(bytes)
            : "memory");
        return bytes;
    }
};
#endif

// The head both paths share: the byte at an odd start (the high half of its
// little-endian 16-bit lane), then a 16-bit piece up to a 4-byte boundary.
// Advances p and n past them; returns their sum.
[[gnu::always_inline]] inline uint64_t head_to_4(const unsigned char*& p, size_t& n, bool odd) {
    uint64_t acc = 0;
    if (odd && n != 0) {
        acc = uint64_t{*p++} << 8;
        --n;
    }
    if ((reinterpret_cast<uintptr_t>(p) & 2) != 0 && n >= 2) {
        acc += load16(p);
        p += 2;
        n -= 2;
    }
    return acc;
}

// The Internet checksum of [data, data + len) with `body` summing the
// middle: naturally aligned head pieces up to an 8-byte boundary, the body,
// then the tail (see the file comment for why this order gives the sum).
// Always inlined: ringlet_chksum stays one function (as profiles show it),
// whichever body it has and however many other users a body has.
template <class Body>
[[gnu::always_inline]] inline uint16_t sum_with(const void* data, int len, const Body& body) {
    auto* p = static_cast<const unsigned char*>(data);
    size_t n = len > 0 ? static_cast<size_t>(len) : 0;
    const bool odd = (reinterpret_cast<uintptr_t>(p) & 1) != 0;

    // Head: naturally aligned pieces up to an 8-byte boundary.
    uint64_t acc = head_to_4(p, n, odd);
    if ((reinterpret_cast<uintptr_t>(p) & 4) != 0 && n >= 4) {
        acc += load32(p);
        p += 4;
        n -= 4;
    }

    // Body: p is 8-aligned whenever n >= 8 is left (the head ran in full),
    // 4-aligned whenever n >= 4 is. It leaves fewer than 8 bytes.
    uint64_t middle;
    const size_t used = body(p, n, middle);
    acc = add_wrap(acc, middle);
    p += used;
    n -= used;

    // Tail: fewer than 8 bytes; p is 4-aligned when n >= 4 is left, and the
    // last odd byte sits at an even address (the low half of its lane).
    if (n & 4) {
        acc = add_wrap(acc, load32(p));
        p += 4;
    }
    if (n & 2) {
        acc = add_wrap(acc, load16(p));
        p += 2;
    }
    if (n & 1) acc = add_wrap(acc, *p);

    uint16_t sum = fold(acc);
    if (odd) sum = static_cast<uint16_t>((sum << 8) | (sum >> 8));
    return sum;
}

// Below this length short_sum() runs instead: for a header or a small
// segment (64 B echo: 74-84 bytes a call) the head to an 8-byte boundary,
// the jump into the unrolled words and the tail cost more than the bytes.
constexpr int kShortSum = 160;

// The short case: 32-bit words added into a 64-bit sum with no carries to
// take back (fewer than 2^6 of them, each < 2^32), four a turn; only a
// 2-byte head (to 4-alignment) and a 2 + 1-byte tail. ~0.6 instructions a
// byte against the 64-bit loop's ~0.5, but ~25 fewer fixed ones.
[[gnu::always_inline]] inline uint16_t short_sum(const void* data, int len) {
    auto* p = static_cast<const unsigned char*>(data);
    size_t n = len > 0 ? static_cast<size_t>(len) : 0;
    const bool odd = (reinterpret_cast<uintptr_t>(p) & 1) != 0;
    uint64_t acc = head_to_4(p, n, odd);
    // p is 4-aligned now whenever n >= 2 is left.
    const unsigned char* words_end = p + (n & ~size_t{3});
    const unsigned char* blocks_end = p + (n & ~size_t{15});
    for (; p != blocks_end; p += 16) acc += load32(p) + load32(p + 4) + load32(p + 8) + load32(p + 12);
    for (; p != words_end; p += 4) acc += load32(p);
    if (n & 2) {
        acc += load16(p);
        p += 2;
    }
    if (n & 1) acc += *p;  // at an even address: the low half of its lane
    uint16_t sum = fold(acc);
    if (odd) sum = static_cast<uint16_t>((sum << 8) | (sum >> 8));
    return sum;
}

// This core's choice (set_vector_checksum): read once per long sum, a few
// instructions beside its hundreds.
thread_local bool t_vector_sum = false;

}  // namespace

extern "C" uint16_t ringlet_chksum(const void* data, int len) {
    if (len < kShortSum) return short_sum(data, len);
#if defined(__riscv)
    if (t_vector_sum) return sum_with(data, len, VectorBody{});
#endif
    return sum_with(data, len, ScalarBody{});
}

namespace ringlet::net {

void set_vector_checksum(bool usable) {
#if defined(__riscv)
    t_vector_sum = usable;
#else
    (void)usable;  // no vector loop in a host build
#endif
}

bool vector_checksum() { return t_vector_sum; }

uint16_t chksum_scalar(const void* data, int len) {
    if (len < kShortSum) return short_sum(data, len);
    return sum_with(data, len, ScalarBody{});
}

uint16_t chksum_lane_model(const void* data, int len, size_t lanes) {
    if (lanes == 0 || lanes > 256) return 0;
    return sum_with(data, len, LaneModelBody{lanes});
}

}  // namespace ringlet::net
