// The command table: what each RESP command does to the Store, what it
// answers, and what it records in the Journal (the persistence layer).
//
// Errors are worded as Redis words them, so redis-cli users see the usual
// messages. Commands that change the store record their *effect* (the
// resulting value and absolute expiry), not the command, so replaying the
// log is deterministic (INCR replays as a SET of the new number).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/kv/log_format.h"
#include "user/kv/reply.h"
#include "user/kv/resp.h"
#include "user/kv/store.h"

namespace kv {

// Where a write command records its effect. Implemented by the log writer
// (journal.h); nullptr in Context means no persistence.
class Journal {
public:
    // Whether a record of this many key + value bytes fits; may make room
    // (compaction). False: the log is full, the write must be refused.
    virtual bool reserve(size_t payload_bytes) = 0;
    // The same for a record that removes live data (DEL, FLUSHALL). On a full
    // log it must still be possible to free room, so this may compact as long
    // as the live data fits an area at all.
    virtual bool reserve_freeing(size_t payload_bytes) = 0;
    virtual void record_set(Slice key, Slice value, int64_t expire_ms) = 0;
    virtual void record_del(Slice key) = 0;
    virtual void record_expire(Slice key, int64_t expire_ms) = 0;
    virtual void record_flushall() = 0;
    // Asks for a compaction (BGREWRITEAOF); false if it cannot run now.
    virtual bool request_compaction() = 0;
    // INFO's "# Persistence" lines ("name:value\r\n" each) into out[0, cap).
    virtual size_t describe(char* out, size_t cap) = 0;

protected:
    ~Journal() = default;
};

struct Stats {
    uint64_t commands = 0;
    uint64_t connections_total = 0;
    uint64_t connections_now = 0;
    uint64_t rejected_protocol = 0;  // connections closed for a protocol error
    int64_t started_ms = 0;          // the store's clock at start
    const char* os = "linux";
    size_t maxmemory = 0;            // 0: no fixed limit (Linux)
    // Connection requests the network stack refused (the libOS's dataplane
    // counters, ringlet_demi_stats): a client whose SYN was dropped waits
    // for its retransmission, so INFO shows them. Filled by `refresh_net`
    // (the server's; kv_core has no libOS) just before INFO reads them.
    uint64_t tcp_syn_dropped = 0;
    uint64_t tcp_half_open_evicted = 0;
    void (*refresh_net)(Stats&) = nullptr;
};

struct Context {
    Store& store;
    Stats& stats;
    Journal* journal = nullptr;
    bool quit = false;   // QUIT: close the connection after this reply
    bool wrote = false;  // this command recorded something in the journal
};

// Runs one request (argc >= 1) and writes exactly one reply.
void execute(Context& ctx, const Request& req, Reply& out);

// Number of commands in the table (COMMAND COUNT).
size_t command_count();

// ---- shared between the command files (commands*.cc) ----
namespace detail {
using Handler = void (*)(Context&, const Request&, Reply&);
void cmd_del(Context&, const Request&, Reply&);
void cmd_exists(Context&, const Request&, Reply&);
void cmd_expire(Context&, const Request&, Reply&);
void cmd_pexpire(Context&, const Request&, Reply&);
void cmd_ttl(Context&, const Request&, Reply&);
void cmd_pttl(Context&, const Request&, Reply&);
void cmd_persist(Context&, const Request&, Reply&);
void cmd_keys(Context&, const Request&, Reply&);
void cmd_scan(Context&, const Request&, Reply&);
void cmd_dbsize(Context&, const Request&, Reply&);
void cmd_flushall(Context&, const Request&, Reply&);
void cmd_info(Context&, const Request&, Reply&);
void cmd_config(Context&, const Request&, Reply&);
void cmd_command(Context&, const Request&, Reply&);
void cmd_bgrewriteaof(Context&, const Request&, Reply&);

extern const char kNotInteger[];
extern const char kSyntax[];
extern const char kOom[];
extern const char kDiskFull[];
// The journal has room for `bytes` of payload (or there is no journal);
// else answers the disk-full error and returns false.
bool have_room(Context& ctx, size_t bytes, Reply& out);
// The same for a write that removes live data (Journal::reserve_freeing).
bool have_room_to_free(Context& ctx, size_t bytes, Reply& out);
}  // namespace detail

}  // namespace kv
