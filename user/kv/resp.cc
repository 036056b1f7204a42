#include "user/kv/resp.h"

namespace kv {

namespace {

// memchr: the freestanding libc on Ringlet has none.
const uint8_t* find_byte(const uint8_t* p, size_t n, uint8_t c) {
    for (size_t i = 0; i < n; ++i) {
        if (p[i] == c) return p + i;
    }
    return nullptr;
}

ParseResult need_more() { return {ParseStatus::NeedMore, 0, nullptr}; }
ParseResult error(const char* why) { return {ParseStatus::Error, 0, why}; }

// The offset of the '\r' of the "\r\n" ending the line at data[from], or -1
// if it has not arrived yet. A lone '\n' does not end a RESP header line.
int64_t find_crlf(const uint8_t* data, size_t len, size_t from) {
    if (len <= from) return -1;
    const uint8_t* hit = find_byte(data + from, len - from, '\r');
    while (hit != nullptr) {
        const size_t at = static_cast<size_t>(hit - data);
        if (at + 1 >= len) return -1;  // "\r" is last: the "\n" is still coming
        if (data[at + 1] == '\n') return static_cast<int64_t>(at);
        hit = find_byte(data + at + 1, len - at - 1, '\r');
    }
    return -1;
}

// The common RESP header, fast: a decimal without sign or leading zeros
// (at most 18 digits: no overflow) and then "\r\n" at data[from]. True with
// its value and the offset after the "\r\n"; false for anything else
// (other forms, an error, or not all there yet), which the general path
// (find_crlf + parse_i64) then judges, so the two accept exactly the same.
// One and two digits (argument counts, command names, most keys) are tried
// first without a loop: this runs for every header of every request.
[[gnu::always_inline]] inline bool quick_header(const uint8_t* data, size_t len, size_t from, int64_t* value,
                                                size_t* next) {
    if (len - from >= 4) {  // from < len always; room for "d\r\n" and one more byte
        const unsigned d0 = static_cast<uint8_t>(data[from] - '0');
        const unsigned d1 = static_cast<uint8_t>(data[from + 1] - '0');
        if (d0 <= 9 && data[from + 1] == '\r' && data[from + 2] == '\n') {
            *value = d0;
            *next = from + 3;
            return true;
        }
        if (d0 - 1 <= 8 && d1 <= 9 && data[from + 2] == '\r' && data[from + 3] == '\n') {  // 10..99
            *value = d0 * 10 + d1;
            *next = from + 4;
            return true;
        }
    }
    size_t i = from;
    const size_t stop = len - from > 18 ? from + 18 : len;
    uint64_t v = 0;
    while (i < stop && static_cast<uint8_t>(data[i] - '0') <= 9) v = v * 10 + (data[i++] - '0');
    if (i == from || i + 1 >= len || data[i] != '\r' || data[i + 1] != '\n') return false;
    if (data[from] == '0' && i - from > 1) return false;
    *value = static_cast<int64_t>(v);
    *next = i + 2;
    return true;
}

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Inline: one line of whitespace-separated words, ended by "\n" (a "\r"
// before it is dropped). Quotes are not interpreted (Redis does; clients
// that need binary-safe arguments use multibulk).
ParseResult parse_inline(const uint8_t* data, size_t len, Request& out) {
    const uint8_t* nl = find_byte(data, len, '\n');
    if (nl == nullptr) return len > kMaxInline ? error("too big inline request") : need_more();
    const size_t end = static_cast<size_t>(nl - data);
    if (end > kMaxInline) return error("too big inline request");
    out.argc = 0;
    size_t i = 0;
    while (i < end) {
        while (i < end && is_space(data[i])) ++i;
        if (i == end) break;
        const size_t start = i;
        while (i < end && !is_space(data[i])) ++i;
        if (out.argc == kMaxArgs) return error("too many arguments in request");
        out.argv[out.argc++] = Slice(data + start, i - start);
    }
    return {ParseStatus::Complete, end + 1, nullptr};
}

}  // namespace

ParseResult parse_request(const uint8_t* data, size_t len, size_t limit, Request& out) {
    out.argc = 0;
    if (len == 0) return need_more();
    if (data[0] != '*') return parse_inline(data, len, out);

    int64_t count = 0;
    size_t pos = 0;
    if (!quick_header(data, len, 1, &count, &pos)) {
        const int64_t head = find_crlf(data, len, 1);
        if (head < 0) return len > kMaxInline ? error("too big mbulk count string") : need_more();
        if (!parse_i64(Slice(data + 1, static_cast<size_t>(head) - 1), &count)) return error("invalid multibulk length");
        pos = static_cast<size_t>(head) + 2;
    }
    if (count > kMaxMultibulk) return error("invalid multibulk length");
    if (count <= 0) return {ParseStatus::Complete, pos, nullptr};  // empty: skipped
    if (static_cast<size_t>(count) > kMaxArgs) return error("too many arguments in request");

    for (int64_t a = 0; a < count; ++a) {
        if (pos >= len) return need_more();
        if (data[pos] != '$') {
            // Redis words it "expected '$', got 'X'"; the byte is shown only
            // when printable so the reply stays one clean line.
            static char msg[] = "expected '$', got ' '";
            const uint8_t c = data[pos];
            msg[sizeof msg - 3] = (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
            return error(msg);
        }
        int64_t blen = 0;
        size_t body = 0;
        if (!quick_header(data, len, pos + 1, &blen, &body)) {
            const int64_t eol = find_crlf(data, len, pos + 1);
            if (eol < 0) return len - pos > kMaxInline ? error("too big bulk count string") : need_more();
            if (!parse_i64(Slice(data + pos + 1, static_cast<size_t>(eol) - pos - 1), &blen) || blen < 0) {
                return error("invalid bulk length");
            }
            body = static_cast<size_t>(eol) + 2;
        }
        if (blen > kMaxBulk) return error("invalid bulk length");
        // Refuse now what could never fit, rather than buffer towards it.
        if (static_cast<uint64_t>(blen) + 2 > limit || body + static_cast<size_t>(blen) + 2 > limit) {
            return error("request too large for this server's input buffer");
        }
        if (len < body + static_cast<size_t>(blen) + 2) return need_more();
        if (data[body + blen] != '\r' || data[body + blen + 1] != '\n') return error("bulk string not ended by CRLF");
        out.argv[out.argc++] = Slice(data + body, static_cast<size_t>(blen));
        pos = body + static_cast<size_t>(blen) + 2;
    }
    return {ParseStatus::Complete, pos, nullptr};
}

}  // namespace kv
