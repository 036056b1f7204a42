// libFuzzer target: arbitrary bytes through httpd's request parser, fed in
// pieces the way pops bring them (the first byte picks the piece size), with
// every parsed request answered by the responder (target resolution, ETag
// matching, the response head). Any crash, sanitizer report or broken
// invariant (a view outside the buffer, a head longer than the input, a
// response head without its blank line) is a bug.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/httpd/request_parser.h"
#include "user/httpd/responder.h"
#include "user/httpd/site.h"

namespace {

void check(bool ok) {
    if (!ok) abort();
}

bool inside(httpd::Str s, const char* buf, size_t len) {
    return s.n == 0 || (s.p >= buf && s.p + s.n <= buf + len);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static httpd::Site site;  // empty: every file is a 404
    static httpd::FileHeads heads;  // of the empty site
    static httpd::Stats stats;
    const size_t step = (data[0] % 32) + 1;
    ++data;
    --size;
    httpd::Limits limits;
    limits.max_head = 1024;
    limits.max_target = 256;
    limits.max_body = 4096;
    // A connection's buffer: bytes arrive `step` at a time, requests are
    // consumed from the front.
    char* buf = static_cast<char*>(malloc(limits.max_head));
    size_t len = 0, fed = 0;
    uint64_t skip = 0;
    httpd::RequestParser parser(limits);
    char out[httpd::kResponseBuffer];
    bool dead = false;
    while (!dead && fed < size) {
        size_t take = size - fed < step ? size - fed : step;
        if (take > limits.max_head - len) take = limits.max_head - len;
        memcpy(buf + len, data + fed, take);
        len += take;
        fed += take;
        for (;;) {
            if (skip > 0 && len > 0) {
                const size_t drop = skip < len ? skip : len;
                memmove(buf, buf + drop, len - drop);
                len -= drop;
                skip -= drop;
                parser.reset();
                continue;
            }
            if (len == 0) break;
            httpd::Request req;
            const httpd::ParseResult r = parser.parse(buf, len, &req);
            if (r.status == httpd::ParseStatus::NeedMore) {
                check(len < limits.max_head);  // a full buffer is always an answer
                break;
            }
            if (r.status == httpd::ParseStatus::Error) {
                check(r.error >= 400 && r.error <= 505);
                const httpd::Response e = httpd::error_response(r.error, out, sizeof out);
                check(e.head_len > 0 && e.close);
                dead = true;
                break;
            }
            check(r.head_bytes > 0 && r.head_bytes <= len);
            check(inside(req.target, buf, r.head_bytes) && inside(req.method_text, buf, r.head_bytes));
            check(inside(req.if_none_match, buf, r.head_bytes));
            check(req.content_length <= limits.max_body);
            const httpd::Response resp = httpd::respond(req, site, heads, stats, out, sizeof out);
            check(resp.head_len >= 4 && memcmp(out, "HTTP/1.1 ", 9) == 0);
            check(resp.file == nullptr);
            memmove(buf, buf + r.head_bytes, len - r.head_bytes);
            len -= r.head_bytes;
            skip = req.content_length;
            parser.reset();
        }
    }
    free(buf);
    return 0;
}
