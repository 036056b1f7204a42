#include "user/kv/reply.h"

namespace kv {

void Reply::header(char type, int64_t n) {
    char buf[32];
    buf[0] = type;
    size_t len = 1 + format_i64(n, buf + 1);
    buf[len++] = '\r';
    buf[len++] = '\n';
    write(buf, len);
}

void Reply::simple(const char* s) {
    write("+", 1);
    write(s, strlen(s));
    write("\r\n", 2);
}

void Reply::error(const char* s) {
    write("-", 1);
    write(s, strlen(s));
    write("\r\n", 2);
}

void Reply::integer(int64_t v) { header(':', v); }

void Reply::bulk(Slice s) {
    // A short value goes out in one write with its header and CRLF (the
    // common GET reply): one call into the sink instead of three.
    constexpr size_t kShort = 96;
    if (s.n <= kShort) {
        char buf[kShort + 32];
        buf[0] = '$';
        size_t len = 1 + format_u64(s.n, buf + 1);
        buf[len++] = '\r';
        buf[len++] = '\n';
        for (size_t i = 0; i < s.n; ++i) buf[len + i] = static_cast<char>(s.p[i]);
        len += s.n;
        buf[len++] = '\r';
        buf[len++] = '\n';
        return write(buf, len);
    }
    header('$', static_cast<int64_t>(s.n));
    write(s.p, s.n);
    write("\r\n", 2);
}

}  // namespace kv
