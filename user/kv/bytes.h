// Byte slices and the decimal conversions RESP needs, without libc's heap or
// locale (the same code runs freestanding on Ringlet and on Linux).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace kv {

// A view of bytes owned by someone else (a received buffer, the store).
struct Slice {
    const uint8_t* p = nullptr;
    size_t n = 0;

    Slice() = default;
    Slice(const uint8_t* data, size_t len) : p(data), n(len) {}
    Slice(const char* s) : p(reinterpret_cast<const uint8_t*>(s)), n(strlen(s)) {}  // NOLINT: literals

    bool operator==(const Slice& o) const { return n == o.n && (n == 0 || memcmp(p, o.p, n) == 0); }
    // ASCII case-insensitive comparison with a lower-case word (command names).
    bool equals_word(const char* lower) const;
};

// Parses a whole slice as a signed 64-bit decimal, as Redis does for integer
// arguments: optional '-', digits, no spaces, no '+', no leading zeros
// (except "0"), no overflow. False otherwise.
bool parse_i64(Slice s, int64_t* out);

// Writes v in decimal into out (at least 21 bytes); returns the length.
size_t format_i64(int64_t v, char* out);
size_t format_u64(uint64_t v, char* out);

}  // namespace kv
