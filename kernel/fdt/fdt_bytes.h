// Byte-level helpers shared by the FDT reader and the BootInfo parser. Private
// to kernel/fdt. Freestanding: no libc calls, so they work before anything else
// in the kernel does, and on blobs at any alignment.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ringlet::fdt_detail {

// The big-endian 32-bit value at p (any alignment).
inline uint32_t load_be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// The NUL-terminated strings a and b are equal.
inline bool str_eq(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

// The first n bytes of a equal the NUL-terminated b, which is n bytes long.
inline bool span_eq(const char* a, size_t n, const char* b) {
    for (size_t i = 0; i < n; ++i) {
        if (b[i] == '\0' || a[i] != b[i]) return false;
    }
    return b[n] == '\0';
}

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// Length of s, reading at most max bytes; returns max if no NUL came first.
inline size_t bounded_strlen(const char* s, size_t max) {
    size_t n = 0;
    while (n < max && s[n] != '\0') ++n;
    return n;
}

}  // namespace ringlet::fdt_detail
