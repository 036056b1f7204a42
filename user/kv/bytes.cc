#include "user/kv/bytes.h"

namespace kv {

bool Slice::equals_word(const char* lower) const {
    for (size_t i = 0; i < n; ++i) {
        if (lower[i] == '\0') return false;
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c - 'A' + 'a');
        if (c != static_cast<uint8_t>(lower[i])) return false;
    }
    return lower[n] == '\0';
}

bool parse_i64(Slice s, int64_t* out) {
    if (s.n == 0 || s.n > 20) return false;
    size_t i = 0;
    const bool neg = s.p[0] == '-';
    if (neg) i = 1;
    if (i == s.n) return false;
    if (s.p[i] == '0' && s.n - i > 1) return false;  // "007" is not an integer to Redis
    if (neg && s.p[i] == '0') return false;          // nor is "-0"
    uint64_t v = 0;
    for (; i < s.n; ++i) {
        const uint8_t c = s.p[i];
        if (c < '0' || c > '9') return false;
        const uint64_t d = c - '0';
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (v > limit) return false;
    *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return true;
}

size_t format_u64(uint64_t v, char* out) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
    return n;
}

size_t format_i64(int64_t v, char* out) {
    if (v >= 0) return format_u64(static_cast<uint64_t>(v), out);
    out[0] = '-';
    return 1 + format_u64(0 - static_cast<uint64_t>(v), out + 1);
}

}  // namespace kv
