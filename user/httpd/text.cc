#include "user/httpd/text.h"

#include <string.h>

namespace httpd {

bool Str::operator==(Str o) const { return n == o.n && (n == 0 || memcmp(p, o.p, n) == 0); }

bool Str::equals_nocase(Str o) const {
    if (n != o.n) return false;
    for (size_t i = 0; i < n; ++i) {
        if (lower(p[i]) != lower(o.p[i])) return false;
    }
    return true;
}

size_t Str::find(char c) const {
    for (size_t i = 0; i < n; ++i) {
        if (p[i] == c) return i;
    }
    return n;
}

Str Str::trimmed() const {
    size_t b = 0, e = n;
    while (b < e && (p[b] == ' ' || p[b] == '\t')) ++b;
    while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t')) --e;
    return Str(p + b, e - b);
}

Writer& Writer::put(Str s) {
    if (s.n > m_cap - m_len) {
        m_overflow = true;
        return *this;
    }
    if (s.n > 0) memcpy(m_buf + m_len, s.p, s.n);
    m_len += s.n;
    return *this;
}

Writer& Writer::put(char c) { return put(Str(&c, 1)); }

Writer& Writer::num(uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return put(Str(digits + sizeof digits - n, n));
}

Writer& Writer::hex(uint64_t v, int digits) {
    char out[16];
    if (digits > 16) digits = 16;
    for (int i = digits - 1; i >= 0; --i) {
        out[i] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    }
    return put(Str(out, static_cast<size_t>(digits)));
}

uint64_t fnv1a64(const uint8_t* p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

}  // namespace httpd
