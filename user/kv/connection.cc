// Connection input: carry-over buffer, parsing in place, running commands,
// and the reply chunks they write into.
#include <demi/sga.h>

#include "user/kv/alloc.h"
#include "user/kv/server.h"

namespace kv {

namespace {
// A chunk's buffer fits the DMA heap's 4 KiB class with the libOS's header
// and headroom; bigger replies take bigger chunks.
constexpr uint32_t kChunkBytes = 4096 - 128 - 64;
constexpr uint32_t kMaxChunkBytes = 64 * 1024;

Request g_request;  // large (argv for kMaxArgs): one, reused, the loop is single-threaded
}  // namespace

void OutList::push_back(OutChunk* c) {
    c->next = nullptr;
    if (tail != nullptr) {
        tail->next = c;
    } else {
        head = c;
    }
    tail = c;
    ++count;
}

OutChunk* OutList::pop_front() {
    OutChunk* c = head;
    if (c == nullptr) return nullptr;
    head = c->next;
    if (head == nullptr) tail = nullptr;
    --count;
    return c;
}

void free_chunk(OutChunk* c) {
    if (c->sga.sga_numsegs != 0) (void)demi_sgafree(&c->sga);
    mem_free(c);
}

void ChunkReply::write(const void* p, size_t n) {
    const auto* src = static_cast<const uint8_t*>(p);
    // Most replies are a few bytes into the open chunk: copied here byte by
    // byte, cheaper than a memcpy call for such sizes.
    if (OutChunk* c = m_list.tail; n <= 32 && c != nullptr && !c->stamped && c->cap - c->used >= n) {
        uint8_t* dst = static_cast<uint8_t*>(c->sga.sga_segs[0].sgaseg_buf) + c->used;
        for (size_t i = 0; i < n; ++i) dst[i] = src[i];
        c->used += static_cast<uint32_t>(n);
        return;
    }
    while (n > 0 && !m_list.failed) {
        OutChunk* c = m_list.tail;
        // A stamped chunk belongs to an earlier batch; it may already be
        // waiting for the log, so new bytes go to a fresh one.
        if (c == nullptr || c->stamped || c->used == c->cap) {
            const size_t want = n > kChunkBytes ? (n < kMaxChunkBytes ? n : kMaxChunkBytes) : kChunkBytes;
            c = static_cast<OutChunk*>(mem_alloc(sizeof(OutChunk)));
            if (c == nullptr) {
                m_list.failed = true;
                return;
            }
            c->sga = demi_sgaalloc(want);
            if (c->sga.sga_numsegs == 0) {
                mem_free(c);
                m_list.failed = true;
                return;
            }
            c->used = 0;
            c->cap = static_cast<uint32_t>(want);
            c->replies = 0;
            c->stamped = false;
            c->lsn = 0;
            m_list.push_back(c);
        }
        const size_t take = n < c->cap - c->used ? n : c->cap - c->used;
        memcpy(static_cast<uint8_t*>(c->sga.sga_segs[0].sgaseg_buf) + c->used, src, take);
        c->used += static_cast<uint32_t>(take);
        src += take;
        n -= take;
    }
}

bool process_input(Conn& c, const uint8_t* data, size_t len, const ServerConfig& cfg, Store& store, Stats& stats,
                   Log* log) {
    const uint8_t* src = data;
    size_t src_len = len;
    if (c.in_len != 0) {  // a request is split across pops: join it
        if (c.in_len + len > c.in_cap) {
            size_t cap = c.in_cap * 2;
            while (cap < c.in_len + len) cap *= 2;
            if (cap > cfg.input_limit + kMaxInline) cap = cfg.input_limit + kMaxInline;
            if (c.in_len + len > cap) return false;  // parse() refuses such requests before this
            auto* grown = static_cast<uint8_t*>(mem_alloc(cap));
            if (grown == nullptr) return false;
            memcpy(grown, c.in, c.in_len);
            mem_free(c.in);
            c.in = grown;
            c.in_cap = cap;
        }
        memcpy(c.in + c.in_len, data, len);
        c.in_len += len;
        src = c.in;
        src_len = c.in_len;
    }
    ChunkReply out(c.out);
    size_t off = 0;
    while (off < src_len && !c.closing) {
        const ParseResult pr = parse_request(src + off, src_len - off, cfg.input_limit, g_request);
        if (pr.status == ParseStatus::NeedMore) break;
        if (pr.status == ParseStatus::Error) {
            // Redis answers a protocol error and closes the connection.
            out.raw("-ERR Protocol error: ");
            out.raw(pr.error);
            out.raw("\r\n");
            if (c.out.tail != nullptr) ++c.out.tail->replies;
            ++stats.rejected_protocol;
            c.closing = true;
            off = src_len;
            break;
        }
        off += pr.consumed;
        if (g_request.argc == 0) continue;
        Context ctx{store, stats, log};
        execute(ctx, g_request, out);
        if (c.out.tail != nullptr) ++c.out.tail->replies;
        if (ctx.wrote && log != nullptr && log->mode() == Log::Fsync::Always) c.last_lsn = log->lsn();
        if (ctx.quit) c.closing = true;
        if (c.out.failed) return false;
    }
    // Keep the unparsed rest (a partial request) for the next pop.
    const size_t rest = src_len - off;
    if (rest == 0) {
        c.in_len = 0;
    } else if (src == c.in) {
        memmove(c.in, c.in + off, rest);
        c.in_len = rest;
    } else {
        if (rest > c.in_cap) {
            size_t cap = c.in_cap == 0 ? 4096 : c.in_cap;
            while (cap < rest) cap *= 2;
            auto* grown = static_cast<uint8_t*>(mem_alloc(cap));
            if (grown == nullptr) return false;
            mem_free(c.in);
            c.in = grown;
            c.in_cap = cap;
        }
        memcpy(c.in, src + off, rest);
        c.in_len = rest;
    }
    // The batch is done: its chunks wait for the log up to the latest write.
    for (OutChunk* k = c.out.head; k != nullptr; k = k->next) {
        if (!k->stamped) {
            k->stamped = true;
            k->lsn = c.last_lsn;
        }
    }
    return !c.out.failed;
}

}  // namespace kv
