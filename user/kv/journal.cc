// Log: appending records and the group commit (recovery and compaction are
// in recovery.cc).
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>

#include "libos/pdpix/ringlet_demi.h"
#include "user/kv/alloc.h"
#include "user/kv/console.h"
#include "user/kv/journal.h"

namespace kv {

Log::~Log() { mem_free(m_pending); }

// Live data (what a snapshot holds) is kept within 3/4 of an area: a write
// that adds data is refused beyond that even while the area has room, so a
// compaction always leaves a quarter of an area to go on (not one per write)
// and a record that removes data (DEL, FLUSHALL; it shrinks the live data by
// at least its own size) always fits after one: a full log can be emptied.
bool Log::reserve(size_t payload_bytes) {
    if (live_bytes() + log::kRecordHeader + payload_bytes > m_sb.area_bytes / 4 * 3) return false;
    return reserve_room(payload_bytes);
}

bool Log::reserve_freeing(size_t payload_bytes) { return reserve_room(payload_bytes); }

bool Log::reserve_room(size_t payload_bytes) {
    if (m_broken || payload_bytes > log::kMaxRecordPayload) return false;
    const uint64_t need = log::kRecordHeader + payload_bytes;
    if (m_pending_len + need > kMaxPending) return false;
    if (m_area_end + m_pending_len + need <= m_sb.area_bytes) return true;
    // The area is full: a snapshot of the live data goes to the other one.
    if (live_bytes() + need > m_sb.area_bytes || compact() != 0) return false;
    return m_area_end + m_pending_len + need <= m_sb.area_bytes;
}

uint64_t Log::live_bytes() const { return m_store.payload_bytes() + m_store.size() * log::kRecordHeader; }

void Log::append(const log::Record& rec) {
    const size_t size = log::record_size(rec.key.n, rec.value.n);
    if (m_pending_len + size > m_pending_cap) {
        size_t cap = m_pending_cap == 0 ? 64 * 1024 : m_pending_cap;
        while (cap < m_pending_len + size) cap *= 2;
        auto* p = static_cast<uint8_t*>(mem_alloc(cap));
        if (p == nullptr) {
            // reserve() said yes, memory says no: the record cannot be kept,
            // so nothing after it may be called durable either.
            Line() << "kv: log: out of memory for pending records; refusing writes";
            m_broken = true;
            return;
        }
        if (m_pending_len != 0) memcpy(p, m_pending, m_pending_len);
        mem_free(m_pending);
        m_pending = p;
        m_pending_cap = cap;
    }
    log::Record r = rec;
    r.generation = m_sb.generation;
    r.epoch = m_sb.epoch;
    r.seq = m_next_seq++;
    r.time_ms = m_store.now();
    log::encode_record(r, m_pending + m_pending_len);
    m_pending_len += size;
    m_lsn += size;
}

void Log::record_set(Slice key, Slice value, int64_t expire_ms) {
    log::Record r;
    r.type = log::RecordType::Set;
    r.key = key;
    r.value = value;
    r.expire_ms = expire_ms;
    append(r);
}

void Log::record_del(Slice key) {
    log::Record r;
    r.type = log::RecordType::Del;
    r.key = key;
    append(r);
}

void Log::record_expire(Slice key, int64_t expire_ms) {
    log::Record r;
    r.type = log::RecordType::Expire;
    r.key = key;
    r.expire_ms = expire_ms;
    append(r);
}

void Log::record_flushall() {
    log::Record r;
    r.type = log::RecordType::FlushAll;
    append(r);
}

bool Log::request_compaction() { return !m_broken && compact() == 0; }

void Log::commit() {
    if (in_flight() || m_pending_len == 0 || m_broken) return;
    if (m_mode == Fsync::Everysec && m_store.now() - m_last_commit_ms < 1000) return;
    m_last_commit_ms = m_store.now();
    // One image: the durable bytes of the partial last sector, then the
    // pending records, padded to a sector and cut into kChunk writes.
    const uint64_t start = m_sb.area_offset[m_sb.active] + m_area_end - m_tail_len;
    // At most kMaxCommit per commit (the DMA heap is small on Ringlet); the
    // rest goes with the next one.
    m_commit_len = m_pending_len < kMaxCommit - m_tail_len ? m_pending_len : kMaxCommit - m_tail_len;
    m_commit_lsn = m_lsn - (m_pending_len - m_commit_len);
    const size_t total = m_tail_len + m_commit_len;
    const size_t padded = (total + log::kSector - 1) & ~size_t{log::kSector - 1};
    m_commit_error = 0;
    m_nwrites = 0;
    for (size_t at = 0; at < padded; at += Disk::kChunk) {
        const size_t n = padded - at < Disk::kChunk ? padded - at : Disk::kChunk;
        demi_sgarray_t sga = demi_sgaalloc(n);
        if (sga.sga_numsegs == 0) {
            m_commit_error = ENOMEM;
            break;
        }
        auto* buf = static_cast<uint8_t*>(sga.sga_segs[0].sgaseg_buf);
        image(buf, at, n);
        demi_qtoken_t qt;
        const int e = ringlet_demi_pushat(&qt, m_disk.qd(), &sga, start + at);
        (void)demi_sgafree(&sga);  // the libOS holds it until the write is done
        if (e != 0) {
            m_commit_error = e;
            break;
        }
        m_write_done[m_nwrites] = false;
        m_write_qt[m_nwrites++] = qt;
    }
    m_inflight = m_nwrites;
    if (m_inflight == 0) fail_commit();  // nothing was submitted at all
}

void Log::image(uint8_t* dst, size_t at, size_t n) const {
    while (n > 0) {
        size_t take;
        if (at < m_tail_len) {
            take = m_tail_len - at < n ? m_tail_len - at : n;
            memcpy(dst, m_tail + at, take);
        } else if (at < m_tail_len + m_commit_len) {
            const size_t from = at - m_tail_len;
            take = m_commit_len - from < n ? m_commit_len - from : n;
            memcpy(dst, m_pending + from, take);
        } else {
            take = n;
            memset(dst, 0, take);
        }
        dst += take;
        at += take;
        n -= take;
    }
}

int Log::tokens(demi_qtoken_t* out, int cap) const {
    int n = 0;
    if (m_flushing) {
        if (cap > 0) out[n++] = m_flush_qt;
        return n;
    }
    for (int i = 0; i < m_nwrites && n < cap; ++i) {
        if (!m_write_done[i]) out[n++] = m_write_qt[i];
    }
    return n;
}

void Log::fail_commit() {
    ++m_failed_commits;
    m_failed_lsn = m_commit_lsn;
    m_flushing = false;
    m_inflight = 0;
    m_nwrites = 0;
    Line() << "kv: log: commit failed (errno " << m_commit_error << "); its writes are answered with an error";
}

bool Log::complete(int i, const demi_qresult_t& qr) {
    const int e = qr.qr_opcode == DEMI_OPC_FAILED ? (qr.qr_ret != 0 ? static_cast<int>(qr.qr_ret) : EIO) : 0;
    if (m_flushing) {
        m_flushing = false;
        if (e != 0) {
            m_commit_error = e;
            fail_commit();
            return true;
        }
        // Durable: the new partial last sector becomes the tail.
        const size_t total = m_tail_len + m_commit_len;
        m_area_end += m_commit_len;
        const uint32_t tail = static_cast<uint32_t>(m_area_end % log::kSector);
        uint8_t fresh[log::kSector];
        for (uint32_t k = 0; k < tail; ++k) {
            const size_t src = total - tail + k;
            fresh[k] = src < m_tail_len ? m_tail[src] : m_pending[src - m_tail_len];
        }
        memcpy(m_tail, fresh, tail);
        m_tail_len = tail;
        memmove(m_pending, m_pending + m_commit_len, m_pending_len - m_commit_len);
        m_pending_len -= m_commit_len;
        m_durable_lsn = m_commit_lsn;
        ++m_commits;
        return true;
    }
    // The i-th still-outstanding write (tokens() lists them in order).
    int k = -1;
    for (int w = 0, seen = 0; w < m_nwrites; ++w) {
        if (m_write_done[w]) continue;
        if (seen++ == i) {
            k = w;
            break;
        }
    }
    if (k < 0) return false;
    m_write_done[k] = true;
    if (e != 0 && m_commit_error == 0) m_commit_error = e;
    if (--m_inflight > 0) return false;
    m_nwrites = 0;
    if (m_commit_error != 0) {
        fail_commit();
        return true;
    }
    demi_qtoken_t qt;
    if (const int fe = ringlet_demi_flush(&qt, m_disk.qd()); fe != 0) {
        m_commit_error = fe;
        fail_commit();
        return true;
    }
    m_flush_qt = qt;
    m_flushing = true;
    return false;
}

void Log::finish_inflight() {
    while (in_flight()) {
        demi_qtoken_t qt[kMaxWrites];
        const int n = tokens(qt, kMaxWrites);
        if (n == 0) break;
        demi_qresult_t qr;
        if (demi_wait(&qr, qt[0], nullptr) != 0) {
            m_commit_error = EIO;
            fail_commit();
            break;
        }
        (void)complete(0, qr);
    }
}

}  // namespace kv
