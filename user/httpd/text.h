// Small text helpers for httpd, freestanding (no libstdc++ strings: the app
// builds for Ringlet's U-mode runtime as well as for Linux).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace httpd {

// A view of bytes someone else owns (the connection's input buffer, the
// content archive, a literal).
struct Str {
    const char* p = nullptr;
    size_t n = 0;

    constexpr Str() = default;
    constexpr Str(const char* data, size_t len) : p(data), n(len) {}
    template <size_t N>
    constexpr Str(const char (&lit)[N]) : p(lit), n(N - 1) {}  // NOLINT: literals convert

    bool empty() const { return n == 0; }
    char operator[](size_t i) const { return p[i]; }
    Str sub(size_t from, size_t len) const { return Str(p + from, len); }
    Str from(size_t i) const { return Str(p + i, n - i); }
    bool operator==(Str o) const;
    bool starts_with(Str prefix) const { return n >= prefix.n && Str(p, prefix.n) == prefix; }
    bool ends_with(Str suffix) const { return n >= suffix.n && Str(p + n - suffix.n, suffix.n) == suffix; }
    bool equals_nocase(Str o) const;
    // Position of c, or n when absent.
    size_t find(char c) const;
    // Without leading and trailing spaces and tabs (HTTP's OWS).
    Str trimmed() const;
};

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Appends text to a fixed buffer; remembers when it ran out of room rather
// than writing past the end, so the caller checks once at the end.
class Writer {
public:
    Writer(char* buf, size_t cap) : m_buf(buf), m_cap(cap) {}
    Writer& put(Str s);
    Writer& put(char c);
    Writer& num(uint64_t v);
    Writer& hex(uint64_t v, int digits);
    size_t size() const { return m_len; }
    bool overflowed() const { return m_overflow; }
    const char* data() const { return m_buf; }

private:
    char* m_buf;
    size_t m_cap;
    size_t m_len = 0;
    bool m_overflow = false;
};

// 64-bit FNV-1a: the content hash behind each file's ETag. Pass the hash of
// the bytes before as `h` to hash a file in pieces.
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;
uint64_t fnv1a64(const uint8_t* p, size_t n, uint64_t h = kFnvBasis);

}  // namespace httpd
