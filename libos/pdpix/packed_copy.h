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

namespace ringlet::pdpix {

// The rare misaligned case: one call to memcpy, not an inline byte loop.
[[gnu::noinline]] inline void copy_unaligned(void* dst, const void* src, size_t n) { __builtin_memcpy(dst, src, n); }

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

// *dst = *src for a packed struct (pointers taken as void*, so GCC does not
// warn about the packed type's alignment of 1).
template <typename T>
inline void copy_packed(T* dst, const T* src) {
    copy_bytes<sizeof(T)>(static_cast<void*>(dst), static_cast<const void*>(src));
}

}  // namespace ringlet::pdpix
