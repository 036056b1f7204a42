// What to answer to a request: the status, the response head (and any small
// body made here: error pages, /stats) written into the caller's buffer, and
// the file whose bytes follow, if any. Pure logic, no I/O: the server pushes
// the head and then the file's own buffers (zero-copy), and closes when told.
//
//   GET/HEAD /path     200 with Content-Type (by extension), Content-Length,
//                      ETag; HEAD without the body; "/" and "dir/" mean
//                      their index.html
//   If-None-Match      304 (no body) when it lists the file's ETag or "*"
//   /stats             counters as text/plain (never cached)
//   other methods      405 with "Allow: GET, HEAD"
//   a bad path         400 (see target.h), an unknown one 404
// Errors found while parsing (request_parser.h) are answered by
// error_response() and always close the connection.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/httpd/request_parser.h"
#include "user/httpd/site.h"
#include "user/httpd/text.h"

namespace httpd {

// Per-core counters; only core 0 serves today (the slot is there for the
// multicore libOS).
constexpr uint32_t kMaxCores = 8;

struct CoreStats {
    uint64_t requests = 0;
    uint64_t bytes_sent = 0;
    uint64_t connections = 0;
};

struct Stats {
    uint64_t requests = 0;
    uint64_t connections_accepted = 0;
    uint64_t connections_open = 0;
    uint64_t connections_refused = 0;  // over the connection limit
    uint64_t bytes_sent = 0;          // response heads and bodies pushed
    uint64_t body_bytes_zero_copy = 0;  // file bytes pushed from their buffers
    uint64_t by_class[6] = {};        // responses by status / 100
    uint64_t timeouts = 0;            // 408s and idle closes
    // The libOS's dataplane counters (ringlet_demi_stats). Read only when a
    // /stats page is made, not per request: the server sets this reader
    // (null: both counters print as 0). Returns false if it cannot read them.
    struct Dataplane {
        uint64_t copied = 0;
        uint64_t by_reference = 0;
    };
    bool (*read_dataplane)(Dataplane* out) = nullptr;
    uint32_t cores = 1;
    CoreStats core[kMaxCores];
};

struct Response {
    uint16_t status = 0;
    size_t head_len = 0;       // bytes written to the caller's buffer (head + small body)
    const File* file = nullptr;  // its bytes follow the head
    bool close = false;        // close the connection once it is sent
};

// The reason phrase for a status ("Not Found").
Str reason_phrase(uint16_t status);

// The part of each file's 200 head that never changes (status line, Server,
// Content-Type, Content-Length, ETag), written once when the site is ready:
// a request then copies it instead of formatting it, and adds only its
// Connection field and the blank line.
class FileHeads {
public:
    // For every file of `site` (its hashes known: after all are loaded).
    void build(const Site& site);
    // File i's 200 head without Connection and the blank line; empty if it
    // did not fit (respond() then formats it).
    Str head200(uint32_t i) const { return i < m_count ? Str(m_text[i], m_len[i]) : Str(); }
    // File i's entity tag, quoted: "\"<16 hex digits>\"".
    Str etag(uint32_t i) const { return i < m_count ? Str(m_text[i] + m_etag_at[i], kEtagLen) : Str(); }

    static constexpr size_t kEtagLen = 18;
    static constexpr size_t kRoom = 192;

private:
    uint32_t m_count = 0;
    uint16_t m_len[kMaxFiles] = {};
    uint16_t m_etag_at[kMaxFiles] = {};
    char m_text[kMaxFiles][kRoom];
};

// Answers a parsed request. `out` needs room for a head and a small page
// (kResponseBuffer bytes); `heads` is built from `site`.
Response respond(const Request& req, const Site& site, const FileHeads& heads, const Stats& stats, char* out,
                 size_t cap);

// Answers a request that could not be parsed (or timed out: 408) and closes.
Response error_response(uint16_t status, char* out, size_t cap);

constexpr size_t kResponseBuffer = 2048;

// True when an If-None-Match value lists the entity tag `etag` ("\"...\"")
// or is "*"; weak comparison (RFC 9110 13.1.2).
bool etag_matches(Str if_none_match, Str etag);

// Writes the /stats page body; returns its length (0 if it did not fit).
size_t stats_page(const Stats& s, char* out, size_t cap);

}  // namespace httpd
