// Copies of PDPIX's packed structs (demi_qresult_t, demi_sgarray_t,
// sockaddr_in) without a memcpy call.
//
// The structs are packed (Demikernel's layout), so their alignment is 1 and
// GCC turns every plain assignment into a call to memcpy (strict-alignment
// rv64 may not assume the pointers are aligned); on the echo path that was
// four calls and ~260 instructions per request. Almost always both sides are
// 4- or 8-byte aligned in practice (stack and table slots), so test that
// once and move words; anything else takes memcpy as before.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "demi/types.h"

namespace ringlet::pdpix {

// The rare misaligned case: one call to memcpy, not an inline byte loop.
[[gnu::noinline]] inline void copy_unaligned(void* dst, const void* src, size_t n) { __builtin_memcpy(dst, src, n); }

// Words that may alias anything (they copy other types' bytes).
using AliasWord64 [[gnu::may_alias]] = uint64_t;
using AliasWord32 [[gnu::may_alias]] = uint32_t;

// Copies N bytes, whole words W, between dst and src both aligned to W: the
// caller has checked the alignment (or the types give it), so no test and
// no call remain.
template <typename W, size_t N>
inline void copy_aligned(void* dst, const void* src) {
    static_assert(N % sizeof(W) == 0, "whole words only");
    auto* d = static_cast<W*>(__builtin_assume_aligned(dst, sizeof(W)));
    const auto* s = static_cast<const W*>(__builtin_assume_aligned(src, sizeof(W)));
#pragma GCC unroll 16
    for (size_t i = 0; i < N / sizeof(W); ++i) d[i] = s[i];
}
// 8-aligned (a result into the app's aligned demi_qresult_t).
template <size_t N>
inline void copy_words(void* dst, const void* src) { copy_aligned<AliasWord64, N>(dst, src); }
// 4-aligned (a sockaddr_in).
template <size_t N>
inline void copy_halves(void* dst, const void* src) { copy_aligned<AliasWord32, N>(dst, src); }

// Copies N bytes (a whole number of 32-bit words) from src to dst.
template <size_t N>
inline void copy_bytes(void* dst, const void* src) {
    using Word [[gnu::may_alias]] = uint64_t;
    using Half [[gnu::may_alias]] = uint32_t;
    constexpr size_t kWords = N / 8;
    constexpr bool kHalf = (N & 4) != 0;
    static_assert((N & 3) == 0, "whole 32-bit words only");
    const auto d = reinterpret_cast<uintptr_t>(dst);
    const auto s = reinterpret_cast<uintptr_t>(src);
    if (((d | s) & 7) == 0) {
        auto* dw = reinterpret_cast<Word*>(dst);
        const auto* sw = reinterpret_cast<const Word*>(src);
#pragma GCC unroll 8
        for (size_t i = 0; i < kWords; ++i) dw[i] = sw[i];
        if constexpr (kHalf) {
            reinterpret_cast<Half*>(dw + kWords)[0] = reinterpret_cast<const Half*>(sw + kWords)[0];
        }
        return;
    }
    if (((d | s) & 3) == 0) {  // e.g. a sockaddr_in on the app's stack
        auto* dh = reinterpret_cast<Half*>(dst);
        const auto* sh = reinterpret_cast<const Half*>(src);
#pragma GCC unroll 16
        for (size_t i = 0; i < N / 4; ++i) dh[i] = sh[i];
        return;
    }
    copy_unaligned(dst, src, N);
}

// One field of a packed struct, read with the widest loads its address
// allows: a packed field's type has alignment 1, so a plain read is a load
// per byte plus the shifts to merge them (~30 instructions for a pointer
// and a count); the structs sit in aligned memory almost always.
inline uint64_t load_u64(const void* p) {
    using Word [[gnu::may_alias]] = uint64_t;
    using Half [[gnu::may_alias]] = uint32_t;
    const auto a = reinterpret_cast<uintptr_t>(p);
    if ((a & 7) == 0) return *static_cast<const Word*>(p);
    if ((a & 3) == 0) {
        const auto* h = static_cast<const Half*>(p);
        return static_cast<uint64_t>(h[0]) | static_cast<uint64_t>(h[1]) << 32;
    }
    uint64_t v;
    copy_unaligned(&v, p, sizeof v);
    return v;
}
inline uint32_t load_u32(const void* p) {
    using Half [[gnu::may_alias]] = uint32_t;
    if ((reinterpret_cast<uintptr_t>(p) & 3) == 0) return *static_cast<const Half*>(p);
    uint32_t v;
    copy_unaligned(&v, p, sizeof v);
    return v;
}

// An sga's count and first segment (demi_sgarray_t is packed).
struct SgaView {
    uint32_t numsegs;
    void* buf;
    uint32_t len;
};
template <typename Sga>
inline SgaView view_sga(const Sga* sga) {
    using Half [[gnu::may_alias]] = uint32_t;
    constexpr size_t kNum = offsetof(Sga, sga_numsegs);
    constexpr size_t kBuf = offsetof(Sga, sga_segs) + offsetof(demi_sgaseg_t, sgaseg_buf);
    constexpr size_t kLen = offsetof(Sga, sga_segs) + offsetof(demi_sgaseg_t, sgaseg_len);
    static_assert(kNum % 4 == 0 && kBuf % 4 == 0 && kLen % 4 == 0, "32-bit words from a 4-aligned sga");
    const auto* raw = reinterpret_cast<const unsigned char*>(sga);
    if ((reinterpret_cast<uintptr_t>(raw) & 3) == 0) {  // one test: every field is then 4-aligned
        const auto* w = reinterpret_cast<const Half*>(raw);
        const uint64_t buf = static_cast<uint64_t>(w[kBuf / 4]) | static_cast<uint64_t>(w[kBuf / 4 + 1]) << 32;
        return SgaView{w[kNum / 4], reinterpret_cast<void*>(buf), w[kLen / 4]};
    }
    return SgaView{load_u32(raw + kNum), reinterpret_cast<void*>(load_u64(raw + kBuf)), load_u32(raw + kLen)};
}

// *dst = *src for a packed struct (pointers taken as void*, so GCC does not
// warn about the packed type's alignment of 1).
template <typename T>
inline void copy_packed(T* dst, const T* src) {
    copy_bytes<sizeof(T)>(static_cast<void*>(dst), static_cast<const void*>(src));
}

}  // namespace ringlet::pdpix
