// RESP2 request parser. Requests are multibulk arrays of bulk strings
// (`*2\r\n$3\r\nGET\r\n$1\r\na\r\n`, what every client library sends) or
// inline commands (`PING\r\n`, what redis-benchmark's PING_INLINE and a human
// with nc send).
//
// The parser is stateless over the bytes a connection has buffered: called
// with everything received and not yet consumed, it returns one complete
// request (its arguments point into those bytes: no copy), or NeedMore, or a
// protocol error. So a request may arrive split across any number of pops,
// and several pipelined requests are taken one call at a time. Declared
// lengths are checked before the bytes arrive: a `$` header promising more
// than Redis's 512 MB, or more than this connection may buffer, is refused at
// once instead of waiting for (and holding) a gigabyte.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/kv/bytes.h"

namespace kv {

constexpr size_t kMaxArgs = 4096;                  // arguments one request may carry here
constexpr int64_t kMaxMultibulk = 1024 * 1024;     // Redis's limit on `*N`
constexpr int64_t kMaxBulk = 512ll * 1024 * 1024;  // Redis's proto-max-bulk-len
constexpr size_t kMaxInline = 64 * 1024;           // longest inline request / header line

struct Request {
    Slice argv[kMaxArgs];
    size_t argc = 0;
};

enum class ParseStatus { Complete, NeedMore, Error };

struct ParseResult {
    ParseStatus status;
    size_t consumed;    // Complete: bytes this request used (also for an empty one)
    const char* error;  // Error: Redis's wording, after "ERR Protocol error: "
};

// Parses the first request in data[0, len). `limit` is how many bytes this
// connection may buffer for one request: a request that cannot fit is an
// error as soon as its headers say so. A Complete request with argc == 0 (an
// empty line, `*0`, `*-1`) is to be skipped without a reply, as Redis does.
ParseResult parse_request(const uint8_t* data, size_t len, size_t limit, Request& out);

}  // namespace kv
