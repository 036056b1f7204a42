// Key-space and server commands: DEL, EXISTS, the expiry family, KEYS,
// SCAN, DBSIZE, FLUSHALL, INFO, CONFIG, COMMAND, BGREWRITEAOF.
#include "user/kv/alloc.h"
#include "user/kv/commands.h"
#include "user/kv/glob.h"

namespace kv::detail {

namespace {

// A small text builder for INFO and number strings.
struct Text {
    char buf[2048];
    size_t n = 0;
    void add(const char* s) {
        const size_t len = strlen(s);
        if (n + len < sizeof buf) {
            memcpy(buf + n, s, len);
            n += len;
        }
    }
    void num(int64_t v) {
        char d[24];
        const size_t len = format_i64(v, d);
        if (n + len < sizeof buf) {
            memcpy(buf + n, d, len);
            n += len;
        }
    }
    void field(const char* name, int64_t v) {
        add(name);
        add(":");
        num(v);
        add("\r\n");
    }
    Slice slice() const { return Slice(reinterpret_cast<const uint8_t*>(buf), n); }
};

void invalid_expire(const char* name, Reply& out) {
    char msg[80] = "ERR invalid expire time in '";
    size_t at = strlen(msg);
    for (const char* p = name; *p != '\0'; ++p) msg[at++] = *p;
    const char tail[] = "' command";
    memcpy(msg + at, tail, sizeof tail);
    out.error(msg);
}

// EXPIRE/PEXPIRE key time [NX|XX|GT|LT]
void expire_generic(Context& ctx, const Request& r, Reply& out, bool seconds, const char* name) {
    int64_t v = 0;
    if (!parse_i64(r.argv[2], &v)) return out.error(kNotInteger);
    bool nx = false, xx = false, gt = false, lt = false;
    for (size_t i = 3; i < r.argc; ++i) {
        const Slice& a = r.argv[i];
        if (a.equals_word("nx")) {
            nx = true;
        } else if (a.equals_word("xx")) {
            xx = true;
        } else if (a.equals_word("gt")) {
            gt = true;
        } else if (a.equals_word("lt")) {
            lt = true;
        } else {
            char msg[200] = "ERR Unsupported option ";
            size_t at = strlen(msg);
            for (size_t k = 0; k < a.n && at + 1 < sizeof msg; ++k) msg[at++] = static_cast<char>(a.p[k]);
            msg[at] = '\0';
            return out.error(msg);
        }
    }
    if (nx && (xx || gt || lt)) return out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    if (gt && lt) return out.error("ERR GT and LT options at the same time are not compatible");
    const int64_t now = ctx.store.now();
    if (seconds && (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)) return invalid_expire(name, out);
    const int64_t ms = seconds ? v * 1000 : v;
    if ((ms > 0 && ms > INT64_MAX - now) || (ms < 0 && ms < INT64_MIN + now)) return invalid_expire(name, out);
    Entry* e = ctx.store.find(r.argv[1]);
    if (e == nullptr) return out.integer(0);
    const int64_t at = now + ms;
    const int64_t cur = e->expire_ms;  // 0: none, i.e. infinite
    if ((nx && cur != 0) || (xx && cur == 0) || (gt && (cur == 0 || at <= cur)) || (lt && cur != 0 && at >= cur)) {
        return out.integer(0);
    }
    if (!have_room(ctx, r.argv[1].n, out)) return;
    if (at <= now) {  // a time in the past deletes the key
        ctx.store.del(r.argv[1]);
        if (ctx.journal != nullptr) {
            ctx.journal->record_del(r.argv[1]);
            ctx.wrote = true;
        }
        return out.integer(1);
    }
    ctx.store.set_expire(e, at);
    if (ctx.journal != nullptr) {
        ctx.journal->record_expire(r.argv[1], at);
        ctx.wrote = true;
    }
    out.integer(1);
}

void ttl_generic(Context& ctx, const Request& r, Reply& out, bool ms) {
    Entry* e = ctx.store.find(r.argv[1]);
    if (e == nullptr) return out.integer(-2);
    if (e->expire_ms == 0) return out.integer(-1);
    const int64_t left = e->expire_ms - ctx.store.now();
    out.integer(ms ? left : (left + 500) / 1000);
}

bool parse_cursor(Slice s, uint64_t* out) {
    if (s.n == 0 || s.n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; ++i) {
        const uint8_t c = s.p[i];
        if (c < '0' || c > '9') return false;
        const uint64_t d = c - '0';
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

// CONFIG GET's answers: what a client may reasonably ask at startup.
struct ConfigItem {
    const char* name;
    const char* value;
};

}  // namespace

void cmd_del(Context& ctx, const Request& r, Reply& out) {
    int64_t n = 0;
    for (size_t i = 1; i < r.argc; ++i) {
        if (ctx.store.find(r.argv[i]) == nullptr) continue;
        if (!have_room_to_free(ctx, r.argv[i].n, out)) return;  // earlier keys of this DEL are gone and journaled
        ctx.store.del(r.argv[i]);
        if (ctx.journal != nullptr) {
            ctx.journal->record_del(r.argv[i]);
            ctx.wrote = true;
        }
        ++n;
    }
    out.integer(n);
}

void cmd_exists(Context& ctx, const Request& r, Reply& out) {
    int64_t n = 0;
    for (size_t i = 1; i < r.argc; ++i) n += ctx.store.find(r.argv[i]) != nullptr ? 1 : 0;
    out.integer(n);
}

void cmd_expire(Context& ctx, const Request& r, Reply& out) { expire_generic(ctx, r, out, true, "expire"); }
void cmd_pexpire(Context& ctx, const Request& r, Reply& out) { expire_generic(ctx, r, out, false, "pexpire"); }
void cmd_ttl(Context& ctx, const Request& r, Reply& out) { ttl_generic(ctx, r, out, false); }
void cmd_pttl(Context& ctx, const Request& r, Reply& out) { ttl_generic(ctx, r, out, true); }

void cmd_persist(Context& ctx, const Request& r, Reply& out) {
    Entry* e = ctx.store.find(r.argv[1]);
    if (e == nullptr || e->expire_ms == 0) return out.integer(0);
    if (!have_room(ctx, r.argv[1].n, out)) return;
    ctx.store.set_expire(e, 0);
    if (ctx.journal != nullptr) {
        ctx.journal->record_expire(r.argv[1], 0);
        ctx.wrote = true;
    }
    out.integer(1);
}

void cmd_keys(Context& ctx, const Request& r, Reply& out) {
    const Slice pattern = r.argv[1];
    size_t n = 0;
    ctx.store.for_each([&](const Entry& e) { n += glob_match(pattern, e.key_slice()) ? 1 : 0; });
    out.array(n);
    ctx.store.for_each([&](const Entry& e) {
        if (glob_match(pattern, e.key_slice())) out.bulk(e.key_slice());
    });
}

// SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]
void cmd_scan(Context& ctx, const Request& r, Reply& out) {
    uint64_t cursor = 0;
    if (!parse_cursor(r.argv[1], &cursor)) return out.error("ERR invalid cursor");
    Slice pattern;
    bool match = false, strings = true;
    int64_t count = 10;
    for (size_t i = 2; i < r.argc; ++i) {
        if (i + 1 >= r.argc) return out.error(kSyntax);
        const Slice& a = r.argv[i];
        if (a.equals_word("match")) {
            pattern = r.argv[++i];
            match = true;
        } else if (a.equals_word("count")) {
            if (!parse_i64(r.argv[++i], &count)) return out.error(kNotInteger);
            if (count < 1) return out.error(kSyntax);
        } else if (a.equals_word("type")) {
            strings = r.argv[++i].equals_word("string");  // the only type here
        } else {
            return out.error(kSyntax);
        }
    }
    constexpr size_t kMaxBatch = 8192;
    static const Entry* found[kMaxBatch];
    size_t n = 0;
    // Visit buckets until COUNT keys were looked at (as Redis, COUNT is a
    // hint of work, not of results) or the scan wraps to 0.
    int64_t looked = 0;
    do {
        cursor = ctx.store.scan(cursor, [&](const Entry& e) {
            ++looked;
            if (n < kMaxBatch && strings && (!match || glob_match(pattern, e.key_slice()))) found[n++] = &e;
        });
    } while (cursor != 0 && looked < count && n + 64 < kMaxBatch);
    out.array(2);
    char digits[24];
    out.bulk(Slice(reinterpret_cast<const uint8_t*>(digits), format_u64(cursor, digits)));
    out.array(n);
    for (size_t i = 0; i < n; ++i) out.bulk(found[i]->key_slice());
}

void cmd_dbsize(Context& ctx, const Request&, Reply& out) { out.integer(static_cast<int64_t>(ctx.store.size())); }

void cmd_flushall(Context& ctx, const Request& r, Reply& out) {
    if (r.argc > 2 || (r.argc == 2 && !r.argv[1].equals_word("sync") && !r.argv[1].equals_word("async"))) {
        return out.error(kSyntax);
    }
    if (!have_room_to_free(ctx, 0, out)) return;
    ctx.store.clear();
    if (ctx.journal != nullptr) {
        ctx.journal->record_flushall();
        ctx.wrote = true;
    }
    out.ok();
}

void cmd_info(Context& ctx, const Request&, Reply& out) {
    Text t;
    t.add("# Server\r\nkv_server:ringlet-kv\r\nos:");
    t.add(ctx.stats.os);
    t.add("\r\n");
    t.field("uptime_in_seconds", (ctx.store.now() - ctx.stats.started_ms) / 1000);
    t.add("\r\n# Clients\r\n");
    t.field("connected_clients", static_cast<int64_t>(ctx.stats.connections_now));
    t.add("\r\n# Memory\r\n");
    t.field("used_memory", static_cast<int64_t>(mem_in_use()));
    t.field("maxmemory", static_cast<int64_t>(ctx.stats.maxmemory));
    t.add("\r\n# Persistence\r\n");
    if (ctx.journal == nullptr) {
        t.add("aof_enabled:0\r\n");
    } else {
        t.n += ctx.journal->describe(t.buf + t.n, sizeof t.buf - t.n);
    }
    t.add("\r\n# Stats\r\n");
    t.field("total_connections_received", static_cast<int64_t>(ctx.stats.connections_total));
    t.field("total_commands_processed", static_cast<int64_t>(ctx.stats.commands));
    t.field("expired_keys", static_cast<int64_t>(ctx.store.expired_total()));
    t.field("protocol_errors", static_cast<int64_t>(ctx.stats.rejected_protocol));
    if (ctx.stats.refresh_net != nullptr) ctx.stats.refresh_net(ctx.stats);
    t.field("tcp_syn_dropped", static_cast<int64_t>(ctx.stats.tcp_syn_dropped));
    t.field("tcp_half_open_evicted", static_cast<int64_t>(ctx.stats.tcp_half_open_evicted));
    t.add("\r\n# Keyspace\r\n");
    if (ctx.store.size() != 0) {
        t.add("db0:keys=");
        t.num(static_cast<int64_t>(ctx.store.size()));
        t.add(",expires=");
        t.num(static_cast<int64_t>(ctx.store.with_expiry()));
        t.add("\r\n");
    }
    out.bulk(t.slice());
}

void cmd_config(Context& ctx, const Request& r, Reply& out) {
    if (!r.argv[1].equals_word("get")) {
        return out.error("ERR CONFIG: only CONFIG GET is supported by this server");
    }
    if (r.argc < 3) return out.error("ERR wrong number of arguments for 'config|get' command");
    const bool aof = ctx.journal != nullptr;
    const ConfigItem items[] = {
        {"save", ""},
        {"appendonly", aof ? "yes" : "no"},
        {"databases", "1"},
        {"maxmemory", "0"},
    };
    size_t n = 0;
    const ConfigItem* hits[sizeof items / sizeof items[0]];
    for (const ConfigItem& it : items) {
        for (size_t i = 2; i < r.argc; ++i) {
            if (glob_match(r.argv[i], Slice(it.name))) {
                hits[n++] = &it;
                break;
            }
        }
    }
    out.array(2 * n);
    for (size_t i = 0; i < n; ++i) {
        out.bulk(Slice(hits[i]->name));
        out.bulk(Slice(hits[i]->value));
    }
}

void cmd_command(Context&, const Request& r, Reply& out) {
    if (r.argc == 1 || r.argv[1].equals_word("docs") || r.argv[1].equals_word("info")) {
        return out.array(0);  // no documentation here: clients then go without hints
    }
    if (r.argv[1].equals_word("count")) return out.integer(static_cast<int64_t>(command_count()));
    char msg[200] = "ERR unknown subcommand '";
    size_t at = strlen(msg);
    for (size_t k = 0; k < r.argv[1].n && k < 128; ++k) msg[at++] = static_cast<char>(r.argv[1].p[k]);
    const char tail[] = "'. Try COMMAND HELP.";
    memcpy(msg + at, tail, sizeof tail);
    out.error(msg);
}

void cmd_bgrewriteaof(Context& ctx, const Request&, Reply& out) {
    if (ctx.journal == nullptr) return out.error("ERR no append-only log: the server runs without a disk");
    if (!ctx.journal->request_compaction()) return out.error("ERR log compaction failed or cannot run now");
    out.simple("Background append only file rewriting started");
}

}  // namespace kv::detail
