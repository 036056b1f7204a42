#include "user/httpd/request_parser.h"

namespace httpd {

namespace {

// RFC 9110 5.6.2: tchar.
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(Str s) {
    if (s.empty()) return false;
    for (size_t i = 0; i < s.n; ++i) {
        if (!is_tchar(s[i])) return false;
    }
    return true;
}

// A field value may hold HTAB, visible ASCII, SP and obs-text; no other
// control byte (a NUL or a lone CR is how header injection starts).
bool is_field_value(Str s) {
    for (size_t i = 0; i < s.n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
    }
    return true;
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
        if (tok.equals_nocase("close")) *close = true;
        if (tok.equals_nocase("keep-alive")) *keep_alive = true;
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
    for (; i < len; ++i) {
        if (buf[i] != '\n') continue;
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

ParseResult RequestParser::parse_head(Str head, size_t head_bytes, Request* out) const {
    Request r;
    bool saw_line = false, close = false, keep_alive = false, has_te = false, has_cl = false;
    int hosts = 0;
    size_t pos = 0;
    while (pos < head.n) {
        size_t nl = pos;
        while (head[nl] != '\n') ++nl;  // the head ends with LF
        Str line = head.sub(pos, nl - pos);
        pos = nl + 1;
        if (line.n > 0 && line[line.n - 1] == '\r') line.n -= 1;
        if (line.find('\r') != line.n) return error(400);  // a bare CR
        if (line.empty()) break;                            // the blank line
        if (!saw_line) {
            saw_line = true;
            const size_t sp1 = line.find(' ');
            if (sp1 == line.n) return error(400);
            r.method_text = line.sub(0, sp1);
            if (!is_token(r.method_text)) return error(400);
            const Str rest = line.from(sp1 + 1);
            const size_t sp2 = rest.find(' ');
            if (sp2 == rest.n || sp2 == 0) return error(400);
            r.target = rest.sub(0, sp2);
            for (size_t k = 0; k < r.target.n; ++k) {
                const auto c = static_cast<unsigned char>(r.target[k]);
                if (c <= 0x20 || c >= 0x7f) return error(400);
            }
            if (r.target.n > m_limits.max_target) return error(414);
            const Str v = rest.from(sp2 + 1);
            // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
            if (v.n != 8 || !v.starts_with("HTTP/") || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
                v[7] > '9') {
                return error(400);
            }
            if (v[5] != '1') return error(505);
            r.version_minor = static_cast<uint8_t>(v[7] - '0');
            if (r.method_text == Str("GET")) r.method = Method::Get;
            else if (r.method_text == Str("HEAD")) r.method = Method::Head;
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') return error(400);  // obs-fold
        const size_t colon = line.find(':');
        if (colon == line.n) return error(400);
        const Str name = line.sub(0, colon);
        if (!is_token(name)) return error(400);  // also: whitespace before the colon
        const Str value = line.from(colon + 1).trimmed();
        if (!is_field_value(value)) return error(400);
        if (name.equals_nocase("host")) {
            ++hosts;
        } else if (name.equals_nocase("content-length")) {
            uint64_t n = 0;
            if (!read_length(value, &n)) return error(400);
            if (has_cl && n != r.content_length) return error(400);
            has_cl = true;
            r.content_length = n;
        } else if (name.equals_nocase("transfer-encoding")) {
            has_te = true;
        } else if (name.equals_nocase("connection")) {
            read_connection(value, &close, &keep_alive);
        } else if (name.equals_nocase("if-none-match") && !r.has_if_none_match) {
            r.has_if_none_match = true;
            r.if_none_match = value;
        }
    }
    if (!saw_line) return error(400);
    if (hosts > 1 || (r.version_minor >= 1 && hosts == 0)) return error(400);
    if (has_te && has_cl) return error(400);  // the classic smuggling pair
    if (has_te) return error(501);
    if (r.content_length > m_limits.max_body) return error(413);
    r.keep_alive = r.version_minor >= 1 ? !close : (keep_alive && !close);
    *out = r;
    return ParseResult{ParseStatus::Done, 0, head_bytes};
}

}  // namespace httpd
