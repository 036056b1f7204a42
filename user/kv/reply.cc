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
    header('$', static_cast<int64_t>(s.n));
    if (s.n != 0) write(s.p, s.n);
    write("\r\n", 2);
}

}  // namespace kv
