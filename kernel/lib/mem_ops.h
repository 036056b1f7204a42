// Word-at-a-time memory copy, fill and compare: the bodies of the freestanding
// memcpy, memmove, memset and memcmp (kernel/lib/string.cc), kept here under
// their own names so the host tests can run the very same code next to the
// host's libc.
//
// Every access to memory is naturally aligned (a misaligned load or store
// traps to M-mode on the U74 and costs hundreds of cycles there): the
// destination is brought to an 8-byte boundary with at most 7 byte copies;
// a source that is then misaligned is read as aligned words, each output word
// merged from two neighbours with shifts. Tails of fewer than 8 bytes are
// stored as 4/2/1-byte pieces from one register.
//
// Reads past the ends: the misaligned-source copy may load the whole aligned
// 8-byte word holding the first or last source byte, so it can read up to 7
// bytes outside [src, src + n) but never outside an aligned word that holds a
// source byte (no page, PMP or MMIO boundary lies inside such a word); those
// bytes are never stored. Writes stay exactly inside [dst, dst + n).
//
// Little-endian only (rv64 and x86-64); compile with
// -fno-tree-loop-distribute-patterns so GCC does not turn the loops back into
// calls to memcpy/memset.
#pragma once

#include <stddef.h>
#include <stdint.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "mem_ops.h merges words little-endian");

namespace ringlet::lib {

namespace mem_detail {

// may_alias: these words overlay objects of any type.
using Word [[gnu::may_alias]] = uint64_t;
using Half [[gnu::may_alias]] = uint32_t;
using Quarter [[gnu::may_alias]] = uint16_t;

inline uintptr_t addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Stores the low n (< 8) bytes of v at d. Precondition: d is 8-byte aligned.
inline void store_piece(unsigned char* d, uint64_t v, size_t n) {
    if (n & 4) {
        *reinterpret_cast<Half*>(d) = static_cast<uint32_t>(v);
        d += 4;
        v >>= 32;
    }
    if (n & 2) {
        *reinterpret_cast<Quarter*>(d) = static_cast<uint16_t>(v);
        d += 2;
        v >>= 16;
    }
    if (n & 1) *d = static_cast<unsigned char>(v);
}

// Loads n (< 8) bytes at s into the low bytes of a word, each piece exactly
// (no byte past s + n is read). Precondition: s is 8-byte aligned.
inline uint64_t load_piece(const unsigned char* s, size_t n) {
    uint64_t v = 0;
    if (n & 4) v = *reinterpret_cast<const Half*>(s);
    if (n & 2) v |= static_cast<uint64_t>(*reinterpret_cast<const Quarter*>(s + (n & 4))) << ((n & 4) * 8);
    if (n & 1) v |= static_cast<uint64_t>(s[n & 6]) << ((n & 6) * 8);
    return v;
}

// Copies n < 16 bytes; word and piece stores when both ends are 8-aligned.
inline void copy_small(unsigned char* d, const unsigned char* s, size_t n) {
    if (((addr(d) | addr(s)) & 7) == 0) {
        if (n & 8) {
            *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
            d += 8;
            s += 8;
        }
        store_piece(d, load_piece(s, n & 7), n & 7);
        return;
    }
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
}

}  // namespace mem_detail

// Copies n bytes from src to dst, lowest address first: correct for disjoint
// ranges and for overlapping ones with dst < src (memmove's forward case).
inline void copy_forward(void* dst, const void* src, size_t n) {
    using namespace mem_detail;
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (n < 16) return copy_small(d, s, n);
    // Head: bring d to an 8-byte boundary (n stays >= 9).
    for (size_t head = (0 - addr(d)) & 7; head != 0; --head, --n) *d++ = *s++;
    auto* dw = reinterpret_cast<Word*>(d);
    size_t words = n / 8;
    const size_t tail = n & 7;
    const unsigned off = static_cast<unsigned>(addr(s) & 7);
    if (off == 0) {
        auto* sw = reinterpret_cast<const Word*>(s);
        // Four loads, then four stores: with dst < src the stores land below
        // every byte still to be read.
        for (; words >= 4; words -= 4, dw += 4, sw += 4) {
            const uint64_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];
            dw[0] = a;
            dw[1] = b;
            dw[2] = c;
            dw[3] = e;
        }
        for (; words != 0; --words) *dw++ = *sw++;
        if (tail != 0) {
            const uint64_t v = load_piece(reinterpret_cast<const unsigned char*>(sw), tail);
            store_piece(reinterpret_cast<unsigned char*>(dw), v, tail);
        }
        return;
    }
    // Misaligned source: output word k = the top (8 - off) bytes of aligned
    // source word k and the low off bytes of word k + 1.
    const unsigned lo = off * 8, hi = 64 - lo;
    auto* sw = reinterpret_cast<const Word*>(s - off);
    uint64_t w0 = *sw++;
    for (; words >= 2; words -= 2, dw += 2, sw += 2) {
        const uint64_t w1 = sw[0], w2 = sw[1];
        dw[0] = (w0 >> lo) | (w1 << hi);
        dw[1] = (w1 >> lo) | (w2 << hi);
        w0 = w2;
    }
    if (words != 0) {
        const uint64_t w1 = *sw++;
        *dw++ = (w0 >> lo) | (w1 << hi);
        w0 = w1;
    }
    if (tail != 0) {
        // w0 holds 8 - off source bytes from here; the next aligned word the rest.
        uint64_t v = w0 >> lo;
        if (tail > 8 - off) v |= *sw << hi;
        store_piece(reinterpret_cast<unsigned char*>(dw), v, tail);
    }
}

// Copies n bytes from src to dst, highest address first: correct for
// overlapping ranges with dst > src (memmove's backward case). The mirror
// image of copy_forward, with byte copies at both ends.
inline void copy_backward(void* dst, const void* src, size_t n) {
    using namespace mem_detail;
    auto* d = static_cast<unsigned char*>(dst) + n;  // one past the end
    auto* s = static_cast<const unsigned char*>(src) + n;
    if (n >= 16) {
        // Head (at the top): bring the end of d to an 8-byte boundary.
        for (size_t head = addr(d) & 7; head != 0; --head, --n) *--d = *--s;
        auto* dw = reinterpret_cast<Word*>(d);
        const size_t words = n / 8;
        const unsigned off = static_cast<unsigned>(addr(s) & 7);
        if (off == 0) {
            auto* sw = reinterpret_cast<const Word*>(s);
            size_t left = words;
            for (; left >= 4; left -= 4) {
                dw -= 4;
                sw -= 4;
                const uint64_t a = sw[3], b = sw[2], c = sw[1], e = sw[0];
                dw[3] = a;
                dw[2] = b;
                dw[1] = c;
                dw[0] = e;
            }
            for (; left != 0; --left) *--dw = *--sw;
        } else {
            // The word ending at d = the low off bytes of the aligned word at
            // s - off and the top 8 - off bytes of the aligned word below it.
            const unsigned lo = off * 8, hi = 64 - lo;
            auto* sw = reinterpret_cast<const Word*>(s - off);
            uint64_t w1 = *sw;
            for (size_t left = words; left != 0; --left) {
                const uint64_t w0 = *--sw;
                *--dw = (w0 >> lo) | (w1 << hi);
                w1 = w0;
            }
        }
        d -= words * 8;
        s -= words * 8;
        n &= 7;
    }
    for (; n != 0; --n) *--d = *--s;
}

// memmove: copies n bytes from src to dst, the ranges may overlap.
inline void move(void* dst, const void* src, size_t n) {
    // dst - src (mod 2^64) < n exactly when dst lies inside [src, src + n):
    // only then would a forward copy overwrite bytes before reading them.
    if (mem_detail::addr(dst) - mem_detail::addr(src) >= n) {
        copy_forward(dst, src, n);
    } else if (dst != src) {
        copy_backward(dst, src, n);
    }
}

// Sets n bytes at dst to c.
inline void fill(void* dst, unsigned char c, size_t n) {
    using namespace mem_detail;
    auto* d = static_cast<unsigned char*>(dst);
    const uint64_t v = 0x0101010101010101ull * c;
    if (n >= 8) {
        for (size_t head = (0 - addr(d)) & 7; head != 0; --head, --n) *d++ = c;
        auto* dw = reinterpret_cast<Word*>(d);
        size_t words = n / 8;
        for (; words >= 4; words -= 4, dw += 4) {
            dw[0] = v;
            dw[1] = v;
            dw[2] = v;
            dw[3] = v;
        }
        for (; words != 0; --words) *dw++ = v;
        d = reinterpret_cast<unsigned char*>(dw);
        n &= 7;
    }
    if ((addr(d) & 7) == 0) return store_piece(d, v, n);
    for (; n != 0; --n) *d++ = c;
}

// memcmp: <0, 0 or >0 as the first differing byte of a is below, equal to or
// above b's. Whole words while both are 8-aligned, bytes from the first word
// that differs.
inline int compare(const void* a, const void* b, size_t n) {
    using namespace mem_detail;
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    if (((addr(x) | addr(y)) & 7) == 0) {
        for (; n >= 8; n -= 8, x += 8, y += 8) {
            if (*reinterpret_cast<const Word*>(x) != *reinterpret_cast<const Word*>(y)) break;
        }
    }
    for (; n != 0; --n, ++x, ++y) {
        if (*x != *y) return *x < *y ? -1 : 1;
    }
    return 0;
}

}  // namespace ringlet::lib
