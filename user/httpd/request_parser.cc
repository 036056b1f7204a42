#include "user/httpd/request_parser.h"


namespace httpd {

namespace {

// Byte classes, one table lookup each (the head is read a byte at a time,
// so a chain of comparisons per byte was most of a request's parse cost).
enum : uint8_t {
    kTchar = 1,      // RFC 9110 5.6.2 tchar
    kNotValue = 2,   // a control byte other than HTAB (incl. CR and LF), or DEL: not in a field value
    kNotTarget = 4,  // a byte a request target may not hold: controls, SP, DEL and above
};

struct ByteClasses {
    uint8_t of[256] = {};
    constexpr ByteClasses() {
        for (int c = 0; c < 256; ++c) {
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            bool tchar = alnum;
            for (const char* t = "!#$%&'*+-.^_`|~"; *t != 0; ++t) tchar = tchar || c == *t;
            of[c] = static_cast<uint8_t>((tchar ? kTchar : 0) | ((c < 0x20 && c != '\t') || c == 0x7f ? kNotValue : 0) |
                                         (c <= 0x20 || c >= 0x7f ? kNotTarget : 0));
        }
    }
};
constexpr ByteClasses kClasses;

inline bool has(char c, uint8_t cls) { return (kClasses.of[static_cast<unsigned char>(c)] & cls) != 0; }
inline bool is_tchar(char c) { return has(c, kTchar); }

// A field name or value word against a lowercase literal of letters and
// '-': OR-ing 0x20 folds A-Z onto a-z, and the only other byte it maps onto
// a letter or '-' is CR (0x0d -> '-'), which neither a token nor a field
// value can hold, so this is exactly a case-insensitive compare.
template <size_t N>
inline bool is_name(Str token, const char (&lower)[N]) {
    if (token.n != N - 1) return false;
    for (size_t i = 0; i < N - 1; ++i) {
        if ((token.p[i] | 0x20) != lower[i]) return false;
    }
    return true;
}

// The next LF in b[i, len), or len: a word at a time where the words are
// aligned (no load outside the buffer), since this scan sees every byte of
// every head before the parse does.
size_t find_lf(const char* b, size_t i, size_t len) {
    for (; i < len && (reinterpret_cast<uintptr_t>(b + i) & 7) != 0; ++i) {
        if (b[i] == '\n') return i;
    }
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
    for (; i + 8 <= len; i += 8) {
        using Word [[gnu::may_alias]] = uint64_t;
        uint64_t w = *reinterpret_cast<const Word*>(b + i);  // aligned: one load
        w ^= kOnes * '\n';  // a zero byte where b had an LF
        if (((w - kOnes) & ~w & kHighs) != 0) break;
    }
    for (; i < len; ++i) {
        if (b[i] == '\n') return i;
    }
    return len;
}

// Room the request line needs beyond its target: method, two spaces,
// "HTTP/1.1", CRLF. A longer line without its end is a too-long target.
constexpr size_t kLineOverhead = 32;

ParseResult error(uint16_t status) { return ParseResult{ParseStatus::Error, status, 0}; }

// Connection is a comma list of tokens (RFC 9110 7.6.1).
void read_connection(Str value, bool* close, bool* keep_alive) {
    size_t b = 0;
    while (b <= value.n) {
        size_t e = b;
        while (e < value.n && value[e] != ',') ++e;
        const Str tok = value.sub(b, e - b).trimmed();
        if (is_name(tok, "close")) *close = true;
        if (is_name(tok, "keep-alive")) *keep_alive = true;
        b = e + 1;
    }
}

// 1*DIGIT, saturating far above any limit; false for anything else (a list
// "5, 5", a sign, spaces inside).
bool read_length(Str value, uint64_t* out) {
    if (value.empty()) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < value.n; ++i) {
        if (value[i] < '0' || value[i] > '9') return false;
        if (v < (1ull << 60)) v = v * 10 + static_cast<uint64_t>(value[i] - '0');
    }
    *out = v;
    return true;
}

}  // namespace

size_t leading_empty_lines(const char* buf, size_t len) {
    size_t i = 0;
    for (;;) {
        if (i < len && buf[i] == '\n') {
            ++i;
        } else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') {
            i += 2;
        } else {
            return i;
        }
    }
}

ParseResult RequestParser::parse(const char* buf, size_t len, Request* out) {
    const size_t start = leading_empty_lines(buf, len);
    // Junk is refused as soon as it shows: a request starts with a method
    // token and a space.
    for (size_t i = start; i < len && buf[i] != ' '; ++i) {
        if (!is_tchar(buf[i])) return error(400);
    }
    if (m_scanned < start) m_scanned = start;
    // Find the blank line ending the head: LF followed by LF or CR LF.
    size_t end = 0;
    size_t i = m_scanned;
    for (; (i = find_lf(buf, i, len)) < len; ++i) {
        if (i + 1 >= len) break;  // cannot tell yet
        if (buf[i + 1] == '\n') {
            end = i + 2;
            break;
        }
        if (buf[i + 1] == '\r') {
            if (i + 2 >= len) break;
            if (buf[i + 2] == '\n') {
                end = i + 3;
                break;
            }
        }
    }
    if (end == 0) {
        m_scanned = i;  // resume at the undecided LF (or the end)
        // The request line alone: its end not here yet and already longer
        // than any acceptable target.
        size_t line_end = start;
        while (line_end < len && buf[line_end] != '\n') ++line_end;
        if (line_end == len && len - start > m_limits.max_target + kLineOverhead) return error(414);
        if (len >= m_limits.max_head) return error(line_end == len ? 414 : 431);
        return ParseResult{};
    }
    if (end > m_limits.max_head) return error(431);
    return parse_head(Str(buf + start, end - start), end, out);
}

// One pass over the head, each byte looked at once or twice. `head` ends
// with its blank line, so every line ends with LF inside it.
ParseResult RequestParser::parse_head(Str head, size_t head_bytes, Request* out) const {
    const char* p = head.p;
    const char* const end = head.p + head.n;
    Request r;

    // The request line: method SP request-target SP HTTP-version, then CRLF
    // (or a bare LF). Any other byte where one of these is due: 400.
    const char* q = p;
    while (is_tchar(*q)) ++q;
    if (q == p || *q != ' ') return error(400);
    r.method_text = Str(p, static_cast<size_t>(q - p));
    p = q + 1;
    q = p;
    while (!has(*q, kNotTarget)) ++q;
    if (q == p || *q != ' ') return error(400);
    r.target = Str(p, static_cast<size_t>(q - p));
    if (r.target.n > m_limits.max_target) return error(414);
    p = q + 1;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
    if (end - p < 9 || p[0] != 'H' || p[1] != 'T' || p[2] != 'T' || p[3] != 'P' || p[4] != '/' || p[6] != '.' ||
        static_cast<unsigned char>(p[5] - '0') > 9 || static_cast<unsigned char>(p[7] - '0') > 9) {
        return error(400);
    }
    if (p[8] == '\r' ? p[9] != '\n' : p[8] != '\n') return error(400);  // a bare CR, or more on the line
    if (p[5] != '1') return error(505);
    r.version_minor = static_cast<uint8_t>(p[7] - '0');
    p += p[8] == '\r' ? 10 : 9;
    if (r.method_text == Str("GET")) r.method = Method::Get;
    else if (r.method_text == Str("HEAD")) r.method = Method::Head;

    // Field lines: token ":" OWS value OWS, up to the blank line.
    bool close = false, keep_alive = false, has_te = false, has_cl = false;
    int hosts = 0;
    for (;;) {
        if (*p == '\n') break;                   // the blank line
        if (*p == '\r') {
            if (p[1] != '\n') return error(400);  // a bare CR
            break;
        }
        if (*p == ' ' || *p == '\t') return error(400);  // obs-fold
        q = p;
        while (is_tchar(*q)) ++q;
        // Also refused here: no colon, whitespace before it, a non-token name.
        if (q == p || *q != ':') return error(400);
        const Str name(p, static_cast<size_t>(q - p));
        ++q;
        while (*q == ' ' || *q == '\t') ++q;
        const char* v = q;
        while (!has(*q, kNotValue)) ++q;
        const char* value_end = q;
        if (*q == '\r') {
            if (q[1] != '\n') return error(400);  // a bare CR
            ++q;
        }
        if (*q != '\n') return error(400);  // a control byte in the value
        p = q + 1;
        while (value_end > v && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
        const Str value(v, static_cast<size_t>(value_end - v));
        // The fields that matter here, told apart by length first.
        switch (name.n) {
        case 4:
            if (is_name(name, "host")) ++hosts;
            break;
        case 10:
            if (is_name(name, "connection")) read_connection(value, &close, &keep_alive);
            break;
        case 13:
            if (!r.has_if_none_match && is_name(name, "if-none-match")) {
                r.has_if_none_match = true;
                r.if_none_match = value;
            }
            break;
        case 14:
            if (is_name(name, "content-length")) {
                uint64_t n = 0;
                if (!read_length(value, &n)) return error(400);
                if (has_cl && n != r.content_length) return error(400);
                has_cl = true;
                r.content_length = n;
            }
            break;
        case 17:
            if (is_name(name, "transfer-encoding")) has_te = true;
            break;
        default:
            break;
        }
    }
    if (hosts > 1 || (r.version_minor >= 1 && hosts == 0)) return error(400);
    if (has_te && has_cl) return error(400);  // the classic smuggling pair
    if (has_te) return error(501);
    if (r.content_length > m_limits.max_body) return error(413);
    r.keep_alive = r.version_minor >= 1 ? !close : (keep_alive && !close);
    *out = r;
    return ParseResult{ParseStatus::Done, 0, head_bytes};
}

}  // namespace httpd
