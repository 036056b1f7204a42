// httpd's event loop over PDPIX: one listening TCP queue, connections with
// bounded input buffers; each wait takes the operations that completed
// (demi_wait_next_n, whose timeout is the earliest connection deadline) and
// routes each result to its connection by queue and token.
//
// Per connection: one pop at a time; its bytes are appended to the
// connection's input buffer (Limits::max_head bytes) and every complete
// request in it is answered in order (pipelining). A response is a push of
// its head (a small fresh buffer) and pushes of the file's own buffers
// (file_buffers.h). At most kMaxPushes pushes are in flight per connection:
// past that no more requests are parsed and no pop is issued, so a client
// that does not read holds back only itself.
//
// Timeouts (Config::idle_ms): a connection with no request under way is
// closed silently when idle that long; a request whose head (or body) is not
// complete that long after its first byte is answered 408 and closed - so a
// client sending a byte a second keeps only its own connection, and only
// for that long. Connections beyond kMaxConns are closed at once.
#pragma once

#include <stdint.h>

#include "user/httpd/file_buffers.h"
#include "user/httpd/request_parser.h"
#include "user/httpd/responder.h"
#include "user/httpd/site.h"

namespace httpd {

struct Config {
    uint16_t port = 8080;
    uint64_t idle_ms = 10'000;
    Limits limits;
};

// Runs the server; returns only on a setup or libOS failure (non-zero).
int serve(const Site& site, const FileBuffers& files, const Config& config);

}  // namespace httpd
