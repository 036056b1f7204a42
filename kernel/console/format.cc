#include "kernel/console/format.h"

#include <stdint.h>

namespace ringlet {
namespace {

class Out {
public:
    Out(char* buf, size_t cap) : m_buf(buf), m_cap(cap) {}
    void put(char c) {
        if (m_len + 1 < m_cap) m_buf[m_len] = c;
        ++m_len;
    }
    void pad(size_t n, char c) {
        while (n--) put(c);
    }
    size_t finish() {
        if (m_cap) m_buf[m_len < m_cap ? m_len : m_cap - 1] = '\0';
        return m_len;
    }

private:
    char* m_buf;
    size_t m_cap;
    size_t m_len = 0;
};

struct Spec {
    bool left = false;
    bool zero = false;
    size_t width = 0;
    int precision = -1;  // %.Ns / %.*s: at most N characters of the string
};

void emit(Out& out, const Spec& spec, const char* text, size_t len, const char* prefix = "") {
    size_t plen = 0;
    while (prefix[plen]) ++plen;
    size_t total = len + plen;
    size_t fill = spec.width > total ? spec.width - total : 0;
    if (!spec.left && !spec.zero) out.pad(fill, ' ');
    for (size_t i = 0; i < plen; ++i) out.put(prefix[i]);
    if (!spec.left && spec.zero) out.pad(fill, '0');
    for (size_t i = 0; i < len; ++i) out.put(text[i]);
    if (spec.left) out.pad(fill, ' ');
}

void emit_unsigned(Out& out, const Spec& spec, uint64_t v, unsigned base, bool upper, const char* prefix) {
    char digits[24];
    size_t n = 0;
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = set[v % base];
        v /= base;
    } while (v);
    char text[24];
    for (size_t i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
    emit(out, spec, text, n, prefix);
}

}  // namespace

size_t format_to(char* buf, size_t cap, const char* fmt, va_list ap) {
    Out out(buf, cap);
    while (*fmt) {
        if (*fmt != '%') {
            out.put(*fmt++);
            continue;
        }
        const char* start = fmt++;
        Spec spec;
        for (;; ++fmt) {
            if (*fmt == '-') spec.left = true;
            else if (*fmt == '0') spec.zero = true;
            else break;
        }
        if (*fmt == '*') {
            int w = va_arg(ap, int);
            if (w < 0) spec.left = true, w = -w;
            spec.width = static_cast<size_t>(w);
            ++fmt;
        } else {
            while (*fmt >= '0' && *fmt <= '9') spec.width = spec.width * 10 + static_cast<size_t>(*fmt++ - '0');
        }
        if (*fmt == '.') {
            ++fmt;
            spec.precision = 0;
            if (*fmt == '*') {
                int p = va_arg(ap, int);
                spec.precision = p < 0 ? -1 : p;
                ++fmt;
            } else {
                while (*fmt >= '0' && *fmt <= '9') spec.precision = spec.precision * 10 + (*fmt++ - '0');
            }
        }
        int longs = 0;  // 0 = int, 1 = long, 2 = long long; h/hh narrow after va_arg
        int shorts = 0;
        for (;; ++fmt) {
            if (*fmt == 'l') ++longs;
            else if (*fmt == 'z') longs = 1;
            else if (*fmt == 'h') ++shorts;
            else break;
        }
        auto get_unsigned = [&]() -> uint64_t {
            uint64_t v = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            if (shorts == 1) v = static_cast<unsigned short>(v);
            if (shorts >= 2) v = static_cast<unsigned char>(v);
            return v;
        };
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, long long) : va_arg(ap, int);
            if (shorts == 1) v = static_cast<short>(v);
            if (shorts >= 2) v = static_cast<signed char>(v);
            uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
            emit_unsigned(out, spec, mag, 10, false, v < 0 ? "-" : "");
            break;
        }
        case 'u': emit_unsigned(out, spec, get_unsigned(), 10, false, ""); break;
        case 'x': emit_unsigned(out, spec, get_unsigned(), 16, false, ""); break;
        case 'X': emit_unsigned(out, spec, get_unsigned(), 16, true, ""); break;
        case 'p': {
            // Pointers always show all 64 bits.
            uintptr_t v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
            char text[16];
            for (int i = 0; i < 16; ++i) text[i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
            Spec outer = spec;
            outer.zero = false;
            emit(out, outer, text, 16, "0x");
            break;
        }
        case 's': {
            const char* s = va_arg(ap, const char*);
            if (!s) s = "(null)";
            size_t n = 0;
            while ((spec.precision < 0 || n < static_cast<size_t>(spec.precision)) && s[n]) ++n;
            Spec s_spec = spec;
            s_spec.zero = false;
            emit(out, s_spec, s, n);
            break;
        }
        case 'c': {
            char c = static_cast<char>(va_arg(ap, int));
            Spec c_spec = spec;
            c_spec.zero = false;
            emit(out, c_spec, &c, 1);
            break;
        }
        case '%': out.put('%'); break;
        default:  // unknown or truncated conversion: copy it through
            for (const char* p = start; p < fmt; ++p) out.put(*p);
            if (*fmt) out.put(*fmt);
            else continue;
        }
        ++fmt;
    }
    return out.finish();
}

size_t format(char* buf, size_t cap, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_to(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

}  // namespace ringlet
