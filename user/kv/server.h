// The kv server: one PDPIX event loop (like user/echo) over a listening TCP
// queue, its connections, and the log's storage operations.
//
// A connection's replies are written straight into DMA-heap buffers (OutList
// chunks) and pushed as they are; a reply to a write waits in its chunk
// until the log is durable past that write (appendfsync always), and chunks
// leave strictly in order, so a pipelined read never overtakes the write
// before it. Input that ends in a partial request is kept in a per-connection
// buffer (capped); complete requests are parsed in place in the popped
// buffer, without a copy.
#pragma once

#include <demi/types.h>
#include <stddef.h>
#include <stdint.h>

#include "user/kv/commands.h"
#include "user/kv/journal.h"
#include "user/kv/reply.h"
#include "user/kv/resp.h"
#include "user/kv/store.h"

namespace kv {

// One DMA buffer of reply bytes.
struct OutChunk {
    OutChunk* next;
    demi_sgarray_t sga;
    uint32_t used;
    uint32_t cap;
    uint32_t replies;  // replies that end in this chunk
    bool stamped;      // lsn is final (its batch is done)
    uint64_t lsn;      // durable LSN it must wait for (0: none)
};

struct OutList {
    OutChunk* head = nullptr;
    OutChunk* tail = nullptr;
    size_t count = 0;
    bool failed = false;  // out of buffers: the connection is dropped

    void push_back(OutChunk* c);
    OutChunk* pop_front();
};

// Reply into an OutList's chunks.
class ChunkReply final : public Reply {
public:
    explicit ChunkReply(OutList& list) : m_list(list) {}
    void write(const void* p, size_t n) override;

private:
    OutList& m_list;
};

// Frees a chunk and its buffer.
void free_chunk(OutChunk* c);

struct Conn {
    bool open = false;
    int qd = -1;
    demi_qtoken_t pop_qt = 0;  // the pop in flight (while popping)
    uint8_t* in = nullptr;  // a partial request carried to the next pop
    size_t in_len = 0;
    size_t in_cap = 0;
    OutList out;
    uint64_t last_lsn = 0;  // LSN after this connection's latest write
    int pushes = 0;         // pushes in flight
    bool popping = false;
    bool closing = false;   // close once the output is out (QUIT, EOF, protocol error)
};

struct ServerConfig {
    uint16_t port = 6379;
    size_t input_limit = 2u << 20;  // bytes one connection may buffer for a request
};

// Runs the server until a fatal error; returns the exit code.
int serve(const ServerConfig& cfg, Store& store, Stats& stats, Log* log, int64_t (*now_ms)());

// ---- connection.cc: input handling ----
// Parses and runs every complete request in data[0, len) (what a pop
// returned) plus what the connection carried over, writing replies into
// c.out. Returns false if the connection must be dropped at once.
bool process_input(Conn& c, const uint8_t* data, size_t len, const ServerConfig& cfg, Store& store, Stats& stats,
                   Log* log);

}  // namespace kv
