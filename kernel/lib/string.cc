// The C memory and string primitives GCC may call on its own (struct copies,
// zeroing), that freestanding code uses through __builtin_*, and the few
// string functions lwIP and the libOS call. Built only for riscv64 (kernel and
// U-mode apps); the host has libc. The memory functions are word-at-a-time
// (kernel/lib/mem_ops.h, host-tested there). Compiled with
// -fno-tree-loop-distribute-patterns so these loops do not become calls to
// themselves.
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/mem_ops.h"

extern "C" {

void* memcpy(void* dst, const void* src, size_t n) {
    ringlet::lib::copy_forward(dst, src, n);
    return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
    ringlet::lib::move(dst, src, n);
    return dst;
}

void* memset(void* dst, int c, size_t n) {
    ringlet::lib::fill(dst, static_cast<unsigned char>(c), n);
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) { return ringlet::lib::compare(a, b, n); }

size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

char* strcpy(char* dst, const char* src) {
    char* d = dst;
    while ((*d++ = *src++)) {
    }
    return dst;
}

int strcmp(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (a[i] != b[i] || !a[i]) return static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[i]);
    }
    return 0;
}

// strtol as C specifies it (leading blanks, sign, base 0 or 2..36 with an
// optional 0x prefix for 16; clamps to LONG_MIN/LONG_MAX on overflow, with no
// errno here). glibc's <stdlib.h> turns atoi into strtol when optimising for
// speed, so lwIP's netif_find (-O2) calls it.
long strtol(const char* s, char** end, int base) {
    const char* p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
    bool negative = false;
    if (*p == '+' || *p == '-') negative = *p++ == '-';
    const bool hex_prefix = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if ((base == 0 || base == 16) && hex_prefix) {
        base = 16;
        p += 2;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    if (base < 2 || base > 36) {
        if (end) *end = const_cast<char*>(s);
        return 0;
    }
    const unsigned long limit = negative ? static_cast<unsigned long>(__LONG_MAX__) + 1 : __LONG_MAX__;
    unsigned long v = 0;
    bool any = false, overflow = false;
    for (;; ++p) {
        int digit;
        if (*p >= '0' && *p <= '9') digit = *p - '0';
        else if (*p >= 'a' && *p <= 'z') digit = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'Z') digit = *p - 'A' + 10;
        else break;
        if (digit >= base) break;
        any = true;
        if (v > (limit - static_cast<unsigned long>(digit)) / static_cast<unsigned long>(base)) overflow = true;
        else v = v * static_cast<unsigned long>(base) + static_cast<unsigned long>(digit);
    }
    // "0x" without a hex digit after it: the number is the 0 before the x.
    if (!any && hex_prefix && base == 16) p = p - 1, any = true;
    if (end) *end = const_cast<char*>(any ? p : s);
    if (overflow) v = limit;
    return negative ? static_cast<long>(0 - v) : static_cast<long>(v);
}

// Decimal with optional sign and leading blanks.
int atoi(const char* s) { return static_cast<int>(strtol(s, nullptr, 10)); }

}  // extern "C"
