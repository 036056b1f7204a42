#include "user/httpd/target.h"

namespace httpd {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Checks the segment just written at out[seg, len): not empty, not "." or "..".
bool segment_ok(const char* out, size_t seg, size_t len) {
    const size_t n = len - seg;
    if (n == 0) return false;
    if (n == 1 && out[seg] == '.') return false;
    if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') return false;
    return true;
}

}  // namespace

TargetResult resolve_target(Str target, char* out, size_t cap) {
    const TargetResult refused{};
    Str path = target;
    if (path.n >= 7 && Str(path.p, 7).equals_nocase("http://")) {
        const Str rest = path.from(7);
        const size_t slash = rest.find('/');
        if (slash == 0 || slash == rest.n) return refused;  // no authority, or no path
        path = rest.from(slash);
    }
    if (path.empty() || path[0] != '/') return refused;
    path.n = path.find('?');
    // out holds "/" + segments; seg is where the current segment began.
    size_t len = 0, seg = 1;
    if (cap < 2) return refused;
    out[len++] = '/';
    for (size_t i = 1; i < path.n; ++i) {
        char c = path[i];
        if (c == '/') {
            if (!segment_ok(out, seg, len) || len + 1 >= cap) return refused;
            out[len++] = '/';
            seg = len;
            continue;
        }
        if (c == '%') {
            if (i + 2 >= path.n) return refused;
            const int hi = hex_value(path[i + 1]), lo = hex_value(path[i + 2]);
            if (hi < 0 || lo < 0) return refused;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7f || c == '/') return refused;
        }
        if (c == '\\' || c == '#') return refused;
        if (len + 1 >= cap) return refused;
        out[len++] = c;
    }
    if (len == seg) {
        // Ends with "/": its index. The root "/" too.
        const Str index("index.html");
        if (len + index.n >= cap) return refused;
        for (size_t k = 0; k < index.n; ++k) out[len++] = index[k];
    } else if (!segment_ok(out, seg, len)) {
        return refused;
    }
    return TargetResult{true, len};
}

}  // namespace httpd
