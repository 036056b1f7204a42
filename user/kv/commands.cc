// The command table and the string commands (GET, SET, INCR, ...).
#include "user/kv/commands.h"

namespace kv {

namespace detail {
const char kNotInteger[] = "ERR value is not an integer or out of range";
const char kSyntax[] = "ERR syntax error";
const char kOom[] = "OOM command not allowed when used memory > 'maxmemory'.";
const char kDiskFull[] = "ERR disk full: no room in the append-only log for this write";

bool have_room(Context& ctx, size_t bytes, Reply& out) {
    if (ctx.journal == nullptr || ctx.journal->reserve(bytes)) return true;
    out.error(kDiskFull);
    return false;
}

bool have_room_to_free(Context& ctx, size_t bytes, Reply& out) {
    if (ctx.journal == nullptr || ctx.journal->reserve_freeing(bytes)) return true;
    out.error(kDiskFull);
    return false;
}
}  // namespace detail

namespace {

using namespace detail;

// Records a SET of e's current value and expiry.
void journal_value(Context& ctx, const Entry& e) {
    if (ctx.journal == nullptr) return;
    ctx.journal->record_set(e.key_slice(), e.value_slice(), e.expire_ms);
    ctx.wrote = true;
}

void cmd_ping(Context&, const Request& r, Reply& out) {
    if (r.argc > 2) {
        out.error("ERR wrong number of arguments for 'ping' command");
    } else if (r.argc == 2) {
        out.bulk(r.argv[1]);
    } else {
        out.simple("PONG");
    }
}

void cmd_echo(Context&, const Request& r, Reply& out) { out.bulk(r.argv[1]); }

void cmd_get(Context& ctx, const Request& r, Reply& out) {
    Entry* e = ctx.store.find(r.argv[1]);
    if (e == nullptr) {
        out.null_bulk();
    } else {
        out.bulk(e->value_slice());
    }
}

// Sets key to value with expire_ms and journals it; answers OOM on failure.
bool store_set(Context& ctx, Slice key, Slice value, int64_t expire_ms, Reply& out) {
    if (!ctx.store.set(key, value, expire_ms)) {
        out.error(kOom);
        return false;
    }
    if (ctx.journal != nullptr) {
        ctx.journal->record_set(key, value, expire_ms);
        ctx.wrote = true;
    }
    return true;
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
void cmd_set(Context& ctx, const Request& r, Reply& out) {
    bool nx = false, xx = false, get = false, keepttl = false;
    int64_t expire = 0;
    bool has_expire = false;
    for (size_t i = 3; i < r.argc; ++i) {
        const Slice& a = r.argv[i];
        const bool more = i + 1 < r.argc;
        if (a.equals_word("nx") && !xx) {
            nx = true;
        } else if (a.equals_word("xx") && !nx) {
            xx = true;
        } else if (a.equals_word("get")) {
            get = true;
        } else if (a.equals_word("keepttl") && !has_expire) {
            keepttl = true;
        } else if ((a.equals_word("ex") || a.equals_word("px") || a.equals_word("exat") || a.equals_word("pxat")) &&
                   more && !has_expire && !keepttl) {
            int64_t v = 0;
            if (!parse_i64(r.argv[++i], &v)) return out.error(kNotInteger);
            const bool seconds = a.equals_word("ex") || a.equals_word("exat");
            const bool absolute = a.equals_word("exat") || a.equals_word("pxat");
            if (v <= 0 || (seconds && v > INT64_MAX / 1000)) return out.error("ERR invalid expire time in 'set' command");
            const int64_t ms = seconds ? v * 1000 : v;
            if (!absolute && ms > INT64_MAX - ctx.store.now()) {
                return out.error("ERR invalid expire time in 'set' command");
            }
            expire = absolute ? ms : ctx.store.now() + ms;
            has_expire = true;
        } else {
            return out.error(kSyntax);
        }
    }
    // One hash and chain walk for the checks and the write. have_room only
    // reads the store (a compaction snapshots it), so the place stays valid.
    const Store::Place place = ctx.store.locate(r.argv[1]);
    Entry* old = place.entry();
    if ((nx && old != nullptr) || (xx && old == nullptr)) {
        if (get && old != nullptr) return out.bulk(old->value_slice());
        return out.null_bulk();
    }
    if (!have_room(ctx, r.argv[1].n + r.argv[2].n, out)) return;
    if (keepttl && old != nullptr) expire = old->expire_ms;
    // SET ... GET answers the old value, which the write then overwrites.
    if (get && old != nullptr) out.bulk(old->value_slice());
    if (!ctx.store.set_at(place, r.argv[1], r.argv[2], expire)) {
        if (!get || old == nullptr) out.error(kOom);  // else the reply is sent; nothing changed
        return;
    }
    if (ctx.journal != nullptr) {
        ctx.journal->record_set(r.argv[1], r.argv[2], expire);
        ctx.wrote = true;
    }
    if (!get) {
        out.ok();
    } else if (old == nullptr) {
        out.null_bulk();
    }
}

void cmd_setex(Context& ctx, const Request& r, Reply& out) {
    int64_t v = 0;
    if (!parse_i64(r.argv[2], &v)) return out.error(kNotInteger);
    const bool ms = r.argv[0].equals_word("psetex");
    if (v <= 0 || (!ms && v > INT64_MAX / 1000)) {
        return out.error(ms ? "ERR invalid expire time in 'psetex' command" : "ERR invalid expire time in 'setex' command");
    }
    if (!have_room(ctx, r.argv[1].n + r.argv[3].n, out)) return;
    if (store_set(ctx, r.argv[1], r.argv[3], ctx.store.now() + (ms ? v : v * 1000), out)) out.ok();
}

void cmd_getset(Context& ctx, const Request& r, Reply& out) {
    if (!have_room(ctx, r.argv[1].n + r.argv[2].n, out)) return;
    const Store::Place place = ctx.store.locate(r.argv[1]);
    Entry* old = place.entry();
    if (old != nullptr) out.bulk(old->value_slice());  // before the write overwrites it
    if (!ctx.store.set_at(place, r.argv[1], r.argv[2], 0)) {
        if (old == nullptr) out.error(kOom);
        return;
    }
    if (ctx.journal != nullptr) {
        ctx.journal->record_set(r.argv[1], r.argv[2], 0);
        ctx.wrote = true;
    }
    if (old == nullptr) out.null_bulk();
}

// INCR/DECR/INCRBY/DECRBY: the value as a 64-bit integer, plus delta.
void incr_by(Context& ctx, Slice key, int64_t delta, Reply& out) {
    Entry* e = ctx.store.find(key);
    int64_t v = 0;
    if (e != nullptr && !parse_i64(e->value_slice(), &v)) return out.error(kNotInteger);
    if ((delta > 0 && v > INT64_MAX - delta) || (delta < 0 && v < INT64_MIN - delta)) {
        return out.error("ERR increment or decrement would overflow");
    }
    v += delta;
    char digits[24];
    const Slice text(reinterpret_cast<const uint8_t*>(digits), format_i64(v, digits));
    if (!have_room(ctx, key.n + text.n, out)) return;
    if (e == nullptr) {
        if (!store_set(ctx, key, text, 0, out)) return;
    } else {
        if (!ctx.store.assign(e, text)) return out.error(kOom);
        journal_value(ctx, *e);
    }
    out.integer(v);
}

void cmd_incr(Context& ctx, const Request& r, Reply& out) { incr_by(ctx, r.argv[1], 1, out); }
void cmd_decr(Context& ctx, const Request& r, Reply& out) { incr_by(ctx, r.argv[1], -1, out); }

void cmd_incrby(Context& ctx, const Request& r, Reply& out) {
    int64_t d = 0;
    if (!parse_i64(r.argv[2], &d)) return out.error(kNotInteger);
    incr_by(ctx, r.argv[1], d, out);
}

void cmd_decrby(Context& ctx, const Request& r, Reply& out) {
    int64_t d = 0;
    if (!parse_i64(r.argv[2], &d)) return out.error(kNotInteger);
    if (d == INT64_MIN) return out.error("ERR decrement would overflow");
    incr_by(ctx, r.argv[1], -d, out);
}

void cmd_append(Context& ctx, const Request& r, Reply& out) {
    Entry* e = ctx.store.find(r.argv[1]);
    const size_t now_len = e == nullptr ? 0 : e->vlen;
    if (now_len + r.argv[2].n > log::kMaxRecordPayload - r.argv[1].n) {
        return out.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    if (!have_room(ctx, r.argv[1].n + now_len + r.argv[2].n, out)) return;
    if (e == nullptr) {
        if (store_set(ctx, r.argv[1], r.argv[2], 0, out)) out.integer(static_cast<int64_t>(r.argv[2].n));
        return;
    }
    if (!ctx.store.append(e, r.argv[2])) return out.error(kOom);
    journal_value(ctx, *e);
    out.integer(e->vlen);
}

void cmd_strlen(Context& ctx, const Request& r, Reply& out) {
    Entry* e = ctx.store.find(r.argv[1]);
    out.integer(e == nullptr ? 0 : e->vlen);
}

void cmd_mget(Context& ctx, const Request& r, Reply& out) {
    out.array(r.argc - 1);
    for (size_t i = 1; i < r.argc; ++i) {
        Entry* e = ctx.store.find(r.argv[i]);
        if (e == nullptr) {
            out.null_bulk();
        } else {
            out.bulk(e->value_slice());
        }
    }
}

void cmd_mset(Context& ctx, const Request& r, Reply& out) {
    if (r.argc % 2 != 1) return out.error("ERR wrong number of arguments for 'mset' command");
    size_t bytes = 0;
    for (size_t i = 1; i < r.argc; ++i) bytes += r.argv[i].n + log::kRecordHeader;
    if (!have_room(ctx, bytes, out)) return;
    for (size_t i = 1; i < r.argc; i += 2) {
        if (!store_set(ctx, r.argv[i], r.argv[i + 1], 0, out)) return;
    }
    out.ok();
}

void cmd_select(Context&, const Request& r, Reply& out) {
    int64_t db = 0;
    if (!parse_i64(r.argv[1], &db)) return out.error(kNotInteger);
    if (db != 0) return out.error("ERR DB index is out of range");
    out.ok();
}

void cmd_quit(Context& ctx, const Request&, Reply& out) {
    ctx.quit = true;
    out.ok();
}

struct Command {
    const char* name;  // lower case letters only, as Redis names it in errors
    int arity;         // > 0: exactly; < 0: at least -arity (name included)
    Handler run;
    size_t name_len = __builtin_strlen(name);
};

// Sorted by nothing in particular; a linear scan of ~35 short names with a
// first-byte check is cheaper here than hashing every command name.
constexpr Command kCommands[] = {
    {"get", 2, cmd_get},          {"set", -3, cmd_set},           {"ping", -1, cmd_ping},
    {"incr", 2, cmd_incr},        {"mset", -3, cmd_mset},         {"mget", -2, cmd_mget},
    {"del", -2, cmd_del},         {"exists", -2, cmd_exists},     {"echo", 2, cmd_echo},
    {"getset", 3, cmd_getset},    {"setex", 4, cmd_setex},        {"psetex", 4, cmd_setex},
    {"decr", 2, cmd_decr},        {"incrby", 3, cmd_incrby},      {"decrby", 3, cmd_decrby},
    {"append", 3, cmd_append},    {"strlen", 2, cmd_strlen},      {"expire", -3, cmd_expire},
    {"pexpire", -3, cmd_pexpire}, {"ttl", 2, cmd_ttl},            {"pttl", 2, cmd_pttl},
    {"persist", 2, cmd_persist},  {"keys", 2, cmd_keys},          {"scan", -2, cmd_scan},
    {"dbsize", 1, cmd_dbsize},    {"flushall", -1, cmd_flushall}, {"flushdb", -1, cmd_flushall},
    {"info", -1, cmd_info},       {"select", 2, cmd_select},      {"quit", -1, cmd_quit},
    {"command", -1, cmd_command}, {"config", -2, cmd_config},     {"bgrewriteaof", 1, cmd_bgrewriteaof},
};

// Whether s is the (all-letter, lower-case) command name `word` of length n
// in any case: for a letter, (c | 0x20) equals it only for its two cases.
bool is_name(Slice s, const char* word, size_t n) {
    if (s.n != n) return false;
    for (size_t i = 0; i < n; ++i) {
        if ((s.p[i] | 0x20) != static_cast<uint8_t>(word[i])) return false;
    }
    return true;
}

const Command* lookup(Slice name) {
    if (name.n == 0) return nullptr;
    const uint8_t first = static_cast<uint8_t>(name.p[0] | 0x20);
    for (const Command& c : kCommands) {
        if (static_cast<uint8_t>(c.name[0]) == first && is_name(name, c.name, c.name_len)) return &c;
    }
    return nullptr;
}

// Appends up to `max` bytes of s to buf at `at` (CR/LF shown as spaces so
// the error stays one line); returns the new end.
size_t quote_into(char* buf, size_t at, Slice s, size_t max) {
    const size_t n = s.n > max ? max : s.n;
    for (size_t i = 0; i < n; ++i) {
        const uint8_t c = s.p[i];
        buf[at++] = (c == '\r' || c == '\n') ? ' ' : static_cast<char>(c);
    }
    return at;
}

// As Redis: the name (up to 128 bytes), then arguments while the list of
// them is shorter than 128 bytes, each cut to what is left of those 128.
void unknown_command(const Request& r, Reply& out) {
    char buf[512];
    const char head[] = "ERR unknown command '";
    size_t at = sizeof head - 1;
    memcpy(buf, head, at);
    at = quote_into(buf, at, r.argv[0], 128);
    const char mid[] = "', with args beginning with: ";
    memcpy(buf + at, mid, sizeof mid - 1);
    at += sizeof mid - 1;
    const size_t args_start = at;
    for (size_t i = 1; i < r.argc && at - args_start < 128; ++i) {
        buf[at++] = '\'';
        at = quote_into(buf, at, r.argv[i], 128 - (at - 1 - args_start));
        buf[at++] = '\'';
        buf[at++] = ' ';
    }
    buf[at] = '\0';
    out.error(buf);
}

}  // namespace

size_t command_count() { return sizeof kCommands / sizeof kCommands[0]; }

void execute(Context& ctx, const Request& r, Reply& out) {
    ++ctx.stats.commands;
    const Command* c = lookup(r.argv[0]);
    if (c == nullptr) return unknown_command(r, out);
    const size_t argc = r.argc;
    if ((c->arity > 0 && argc != static_cast<size_t>(c->arity)) ||
        (c->arity < 0 && argc < static_cast<size_t>(-c->arity))) {
        char buf[96];
        const char head[] = "ERR wrong number of arguments for '";
        size_t at = sizeof head - 1;
        memcpy(buf, head, at);
        const size_t n = strlen(c->name);
        memcpy(buf + at, c->name, n);
        at += n;
        const char tail[] = "' command";
        memcpy(buf + at, tail, sizeof tail);
        return out.error(buf);
    }
    c->run(ctx, r, out);
}

}  // namespace kv
