#include "user/httpd/responder.h"

#include "user/httpd/target.h"

namespace httpd {

namespace {

// One head: status line, the fields every response has, then `extra`
// (complete field lines) and the blank line.
struct HeadSpec {
    uint16_t status;
    bool close;
    bool say_keep_alive;  // an HTTP/1.0 client that asked for keep-alive
    Str content_type;
    bool has_length;
    uint64_t length;
    Str etag;  // with quotes, or empty
    Str extra;
};

void write_head(Writer& w, const HeadSpec& h) {
    w.put("HTTP/1.1 ").num(h.status).put(' ').put(reason_phrase(h.status)).put("\r\n");
    w.put("Server: ringlet-httpd\r\n");
    if (!h.content_type.empty()) w.put("Content-Type: ").put(h.content_type).put("\r\n");
    if (h.has_length) w.put("Content-Length: ").num(h.length).put("\r\n");
    if (!h.etag.empty()) w.put("ETag: ").put(h.etag).put("\r\n");
    w.put(h.extra);
    if (h.close) w.put("Connection: close\r\n");
    else if (h.say_keep_alive) w.put("Connection: keep-alive\r\n");
    w.put("\r\n");
}

// A small text page: head plus body in one buffer.
Response page(uint16_t status, Str body_text, Str type, Str extra, bool close, bool keep_alive_10, bool head_only,
              char* out, size_t cap) {
    Writer w(out, cap);
    write_head(w, HeadSpec{status, close, keep_alive_10, type, true, body_text.n, Str(), extra});
    if (!head_only) w.put(body_text);
    Response r;
    r.status = status;
    r.head_len = w.overflowed() ? 0 : w.size();
    r.close = close;
    return r;
}

Response error_page(uint16_t status, bool close, bool keep_alive_10, bool head_only, Str extra, char* out,
                    size_t cap) {
    char body[64];
    Writer b(body, sizeof body);
    b.num(status).put(' ').put(reason_phrase(status)).put('\n');
    return page(status, Str(body, b.size()), "text/plain; charset=utf-8", extra, close, keep_alive_10, head_only, out,
                cap);
}

}  // namespace

Str reason_phrase(uint16_t status) {
    switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

bool etag_matches(Str value, Str etag) {
    if (value.trimmed() == Str("*")) return true;
    size_t i = 0;
    while (i < value.n) {
        while (i < value.n && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) ++i;
        if (i + 2 <= value.n && value[i] == 'W' && value[i + 1] == '/') i += 2;  // weak: compare the opaque tag
        if (i >= value.n || value[i] != '"') return false;                       // malformed: no match
        size_t e = i + 1;
        while (e < value.n && value[e] != '"') ++e;
        if (e == value.n) return false;
        if (value.sub(i, e + 1 - i) == etag) return true;
        i = e + 1;
    }
    return false;
}

size_t stats_page(const Stats& s, char* out, size_t cap) {
    Writer w(out, cap);
    w.put("requests ").num(s.requests).put('\n');
    w.put("connections_accepted ").num(s.connections_accepted).put('\n');
    w.put("connections_open ").num(s.connections_open).put('\n');
    w.put("connections_refused ").num(s.connections_refused).put('\n');
    w.put("bytes_sent ").num(s.bytes_sent).put('\n');
    w.put("body_bytes_zero_copy ").num(s.body_bytes_zero_copy).put('\n');
    for (uint16_t c = 1; c <= 5; ++c) w.put("responses_").num(c).put("xx ").num(s.by_class[c]).put('\n');
    w.put("timeouts ").num(s.timeouts).put('\n');
    Stats::Dataplane dp;
    if (s.read_dataplane != nullptr && !s.read_dataplane(&dp)) dp = Stats::Dataplane{};
    w.put("dataplane_payload_bytes_copied ").num(dp.copied).put('\n');
    w.put("dataplane_tx_by_reference ").num(dp.by_reference).put('\n');
    w.put("cores ").num(s.cores).put('\n');
    for (uint32_t c = 0; c < s.cores && c < kMaxCores; ++c) {
        w.put("core ").num(c).put(" requests ").num(s.core[c].requests).put(" connections ").num(s.core[c].connections);
        w.put(" bytes_sent ").num(s.core[c].bytes_sent).put('\n');
    }
    return w.overflowed() ? 0 : w.size();
}

void FileHeads::build(const Site& site) {
    m_count = site.count();
    for (uint32_t i = 0; i < m_count; ++i) {
        const File& f = site.file(i);
        Writer w(m_text[i], kRoom);
        w.put("HTTP/1.1 200 OK\r\nServer: ringlet-httpd\r\nContent-Type: ").put(f.content_type);
        w.put("\r\nContent-Length: ").num(f.len).put("\r\nETag: ");
        const size_t etag_at = w.size();
        w.put('"').hex(f.hash, 16).put('"').put("\r\n");
        // Too long (a very long Content-Type): respond() formats this one.
        m_len[i] = w.overflowed() ? 0 : static_cast<uint16_t>(w.size());
        m_etag_at[i] = static_cast<uint16_t>(etag_at);
        if (w.overflowed()) {  // the tag alone, at the start
            Writer t(m_text[i], kRoom);
            t.put('"').hex(f.hash, 16).put('"');
            m_etag_at[i] = 0;
        }
    }
}

Response respond(const Request& req, const Site& site, const FileHeads& heads, const Stats& stats, char* out,
                 size_t cap) {
    const bool close = !req.keep_alive;
    const bool ka10 = req.keep_alive && req.version_minor == 0;
    const bool head_only = req.method == Method::Head;
    if (req.method == Method::Other) {
        return error_page(405, close, ka10, false, "Allow: GET, HEAD\r\n", out, cap);
    }
    char path[kMaxPath + 16];
    const TargetResult t = resolve_target(req.target, path, sizeof path);
    if (!t.ok) return error_page(400, close, ka10, head_only, Str(), out, cap);
    const Str p(path, t.len);
    if (p == Str("/stats")) {
        char body[1024];
        const size_t n = stats_page(stats, body, sizeof body);
        return page(200, Str(body, n), "text/plain; charset=utf-8", "Cache-Control: no-store\r\n", close, ka10,
                    head_only, out, cap);
    }
    const File* f = site.find(p);
    if (f == nullptr || f->data == nullptr) return error_page(404, close, ka10, head_only, Str(), out, cap);
    const auto index = static_cast<uint32_t>(f - &site.file(0));
    const Str tag = heads.etag(index);
    const Str head200 = heads.head200(index);
    Writer w(out, cap);
    Response r;
    r.close = close;
    if (req.has_if_none_match && etag_matches(req.if_none_match, tag)) {
        write_head(w, HeadSpec{304, close, ka10, Str(), false, 0, tag, Str()});
        r.status = 304;
    } else {
        if (head200.empty()) {
            write_head(w, HeadSpec{200, close, ka10, f->content_type, true, f->len, tag, Str()});
        } else {  // the same bytes write_head would make, most of them made once
            w.put(head200);
            if (close) w.put("Connection: close\r\n\r\n");
            else if (ka10) w.put("Connection: keep-alive\r\n\r\n");
            else w.put("\r\n");
        }
        r.status = 200;
        if (!head_only && f->len > 0) r.file = f;
    }
    r.head_len = w.overflowed() ? 0 : w.size();
    return r;
}

Response error_response(uint16_t status, char* out, size_t cap) {
    return error_page(status, true, false, false, Str(), out, cap);
}

}  // namespace httpd
