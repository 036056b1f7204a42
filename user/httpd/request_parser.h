// An incremental HTTP/1.1 request-head parser (RFC 9112 sections 2-3, 5,
// 6.3, 9.3).
//
// The connection appends whatever each pop brings to its input buffer and
// calls parse() on the unconsumed bytes; parse() remembers how far it has
// already searched for the end of the head, so a head arriving one byte at a
// time costs one scan in total. Once the blank line is there the whole head
// is checked and a Request (views into the caller's buffer, valid until it
// moves those bytes) is returned with the number of head bytes; any body
// (Content-Length) follows and is the caller's to skip. Several pipelined
// requests in one buffer are parsed one after another.
//
// What is refused, and with which status:
//   400  a malformed request line (not exactly "method SP target SP
//        HTTP/d.d"), a bad version string, a malformed field line (no colon,
//        whitespace before the colon, a non-token name, control bytes in a
//        value, obs-fold continuation lines), a bare CR, HTTP/1.1 without
//        exactly one Host, both Content-Length and Transfer-Encoding, a
//        non-numeric Content-Length or two differing ones (request smuggling)
//   413  Content-Length above Limits::max_body
//   414  a request target longer than Limits::max_target
//   431  a head longer than Limits::max_head
//   501  Transfer-Encoding alone (request bodies in chunks are not decoded)
//   505  an HTTP major version other than 1
// Every refusal closes the connection: after a framing error nobody can
// know where the next request would start.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/httpd/text.h"

namespace httpd {

enum class Method : uint8_t { Get, Head, Other };

struct Limits {
    size_t max_head = 8192;     // request line + fields + blank line
    size_t max_target = 2048;   // the request target as sent
    uint64_t max_body = 65536;  // a body we would read (and throw away)
};

struct Request {
    Method method = Method::Other;
    Str method_text;
    Str target;
    uint8_t version_minor = 1;  // HTTP/1.x
    bool keep_alive = true;     // after Connection and the version's default
    bool has_if_none_match = false;
    Str if_none_match;
    uint64_t content_length = 0;
};

enum class ParseStatus : uint8_t { NeedMore, Done, Error };

struct ParseResult {
    ParseStatus status = ParseStatus::NeedMore;
    uint16_t error = 0;    // the HTTP status to answer with, when Error
    size_t head_bytes = 0;  // bytes of the head, when Done
};

class RequestParser {
public:
    explicit RequestParser(Limits limits = Limits{}) : m_limits(limits) {}

    // Looks at buf[0, len): the unconsumed bytes of one connection. Between
    // calls the caller may only append bytes (or call reset()).
    ParseResult parse(const char* buf, size_t len, Request* out);
    // Forgets the scan position: after the caller consumed a request.
    void reset() { m_scanned = 0; }
    const Limits& limits() const { return m_limits; }

private:
    ParseResult parse_head(Str head, size_t head_bytes, Request* out) const;

    Limits m_limits;
    size_t m_scanned = 0;
};

// Skips the empty lines a client may send before a request (RFC 9112 2.2:
// a server ignores at least one); returns how many bytes they take.
size_t leading_empty_lines(const char* buf, size_t len);

}  // namespace httpd
