// Building RESP2 replies. A Reply is where the bytes go: the server's writes
// straight into DMA-heap buffers that are then pushed (no staging copy);
// tests collect them in a string. The helpers encode one RESP value each.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/kv/bytes.h"

namespace kv {

class Reply {
public:
    // Appends n bytes. A sink that cannot take them (out of buffers) records
    // the failure itself; the caller goes on (the connection is dropped).
    virtual void write(const void* p, size_t n) = 0;

    void raw(const char* s) { write(s, strlen(s)); }
    void simple(const char* s);                      // +s
    void error(const char* s);                       // -s (s without the '-', e.g. "ERR syntax error")
    void integer(int64_t v);                         // :v
    void bulk(Slice s);                              // $n s
    void null_bulk() { write("$-1\r\n", 5); }        // a missing value
    void array(size_t n) { header('*', static_cast<int64_t>(n)); }
    void ok() { write("+OK\r\n", 5); }

protected:
    ~Reply() = default;
    void header(char type, int64_t n);
};

}  // namespace kv
