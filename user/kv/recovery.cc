// Log: recovery at boot, compaction, the superblock, INFO's lines.
#include <errno.h>

#include "user/kv/alloc.h"
#include "user/kv/console.h"
#include "user/kv/journal.h"

namespace kv {

namespace {

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (p[i] != 0) return false;
    }
    return true;
}

// Applies one replayed record to the store. False: out of memory.
bool apply(Store& store, const log::Record& r) {
    switch (r.type) {
    case log::RecordType::Set:
        return store.set(r.key, r.value, r.expire_ms);
    case log::RecordType::Del:
        store.del(r.key);
        return true;
    case log::RecordType::Expire:
        if (Entry* e = store.find(r.key)) store.set_expire(e, r.expire_ms);
        return true;
    case log::RecordType::FlushAll:
        store.clear();
        return true;
    }
    return true;
}

}  // namespace

int Log::write_superblock(const log::Superblock& sb) {
    uint8_t sector[log::kSector];
    log::encode_superblock(sb, sector);
    if (const int e = m_disk.write((sb.serial % 2) * log::kSector, sector, log::kSector); e != 0) return e;
    return m_disk.flush();
}

int Log::recover(int64_t clock_ms, int64_t* clock_offset) {
    const uint64_t cap = m_disk.capacity();
    uint8_t slots[2 * log::kSector];
    if (const int e = m_disk.read(0, slots, sizeof slots); e != 0) return e;
    log::Superblock a, b;
    const bool va = log::decode_superblock(slots, cap, &a);
    const bool vb = log::decode_superblock(slots + log::kSector, cap, &b);
    if (va || vb) {
        m_sb = (va && (!vb || a.serial > b.serial)) ? a : b;
    } else if (all_zero(slots, sizeof slots)) {
        if (!log::layout_for(cap, &m_sb)) {
            Line() << "kv: log: the disk (" << cap << " bytes) is too small for a log";
            return ENOSPC;
        }
        m_sb.generation = 1;
        Line() << "kv: log: empty disk, formatting: two areas of " << m_sb.area_bytes << " bytes";
    } else {
        Line() << "kv: log: no valid superblock on a disk that is not empty; not formatting it";
        return EINVAL;
    }

    // Replay the active area through a window big enough for any record.
    const size_t window_cap = log::kRecordHeader + log::kMaxRecordPayload + Disk::kChunk;
    auto* window = static_cast<uint8_t*>(mem_alloc(window_cap));
    if (window == nullptr) return ENOMEM;
    log::Scanner scan(m_sb.generation, m_sb.epoch);
    const uint64_t base = m_sb.area_offset[m_sb.active];
    uint64_t read_at = 0;
    size_t have = 0;
    int err = 0;
    while (scan.state() == log::Scanner::State::Running) {
        const uint64_t left = m_sb.area_bytes - read_at;
        const size_t n = left < Disk::kChunk ? static_cast<size_t>(left) : Disk::kChunk;
        if (n != 0 && (err = m_disk.read(base + read_at, window + have, n)) != 0) break;
        have += n;
        read_at += n;
        const bool at_end = read_at == m_sb.area_bytes;
        const size_t used = scan.feed(window, have, at_end, [&](const log::Record& r) {
            if (err == 0 && !apply(m_store, r)) err = ENOMEM;
        });
        if (err != 0) break;
        memmove(window, window + used, have - used);
        have -= used;
        if (at_end && scan.state() == log::Scanner::State::Running) break;
    }
    mem_free(window);
    if (err != 0) {
        Line() << "kv: log: recovery failed (errno " << err << ")";
        return err;
    }
    m_area_end = scan.offset();
    m_next_seq = scan.next_seq();
    m_records_replayed = scan.records();
    Line() << "kv: log: generation " << m_sb.generation << ", area " << m_sb.active << ": replayed "
           << scan.records() << " records (" << m_area_end << " bytes), " << static_cast<uint64_t>(m_store.size())
           << " keys";
    if (scan.state() == log::Scanner::State::TornTail) {
        m_bytes_discarded = scan.discarded();
        Line() << "kv: log: torn or corrupt tail at byte " << m_area_end << " of the area: truncated, "
               << scan.discarded() << " bytes discarded";
    }
    // The durable bytes of the partial last sector, rewritten by each commit.
    m_tail_len = static_cast<uint32_t>(m_area_end % log::kSector);
    if (m_tail_len != 0) {
        uint8_t sector[log::kSector];
        if (const int e = m_disk.read(base + m_area_end - m_tail_len, sector, log::kSector); e != 0) return e;
        memcpy(m_tail, sector, m_tail_len);
    }
    // A new epoch before anything is appended: records of this boot are
    // told apart from stale ones behind the truncation point.
    m_sb.epoch += 1;
    m_sb.serial += 1;
    if (const int e = write_superblock(m_sb); e != 0) {
        Line() << "kv: log: cannot write the superblock (errno " << e << ")";
        return e;
    }
    *clock_offset = clock_ms < scan.last_time_ms() ? scan.last_time_ms() - clock_ms + 1 : 0;
    return 0;
}

int Log::compact() {
    if (m_broken) return EIO;
    finish_inflight();
    log::Superblock next = m_sb;
    next.generation += 1;
    next.active = 1 - m_sb.active;
    next.serial += 1;
    // 1. The snapshot: every live key as a Set record of the next
    //    generation, into the other area; then flush. A crash here leaves
    //    the superblock naming the old area: nothing is lost.
    ChunkWriter w(m_disk, next.area_offset[next.active], next.area_bytes);
    uint64_t seq = 1;
    m_store.for_each([&](const Entry& e) {
        log::Record r;
        r.type = log::RecordType::Set;
        r.generation = next.generation;
        r.epoch = next.epoch;
        r.seq = seq++;
        r.time_ms = m_store.now();
        r.expire_ms = e.expire_ms;
        r.key = e.key_slice();
        r.value = e.value_slice();
        uint8_t header[log::kRecordHeader];
        log::encode_record_header(r, header);
        if (w.put(header, sizeof header) && w.put(e.key, e.klen)) (void)w.put(e.value, e.vlen);
    });
    int err = w.finish();
    if (err == 0) err = m_disk.flush();
    if (err != 0) {
        Line() << "kv: log: compaction failed writing the snapshot (errno " << err << "); the old log stays";
        return err;
    }
    // 2. The superblock naming the new area, flushed. If this fails the
    //    disk may name either area: refuse writes rather than guess.
    if ((err = write_superblock(next)) != 0) {
        Line() << "kv: log: compaction could not write the superblock (errno " << err << "); refusing writes";
        m_broken = true;
        return err;
    }
    // 3. Switch: everything journaled so far is in the snapshot.
    const uint64_t old_end = m_area_end;
    m_sb = next;
    m_area_end = w.written();
    m_next_seq = seq;
    m_tail_len = static_cast<uint32_t>(m_area_end % log::kSector);
    if (m_tail_len != 0) {
        uint8_t sector[log::kSector];
        if ((err = m_disk.read(m_sb.area_offset[m_sb.active] + m_area_end - m_tail_len, sector, log::kSector)) != 0) {
            m_broken = true;
            return err;
        }
        memcpy(m_tail, sector, m_tail_len);
    }
    m_pending_len = 0;
    m_durable_lsn = m_lsn;
    ++m_compactions;
    Line() << "kv: log: compacted " << old_end << " bytes into " << m_area_end << " (generation "
           << m_sb.generation << ", area " << m_sb.active << ", " << static_cast<uint64_t>(m_store.size())
           << " keys)";
    return 0;
}

void Log::maybe_compact() {
    if (in_flight() || m_broken) return;
    const uint64_t live = live_bytes();
    // Worth it when the area is past half full and mostly dead records.
    if (m_area_end + m_pending_len > m_sb.area_bytes / 2 && live * 2 < m_area_end) (void)compact();
}

size_t Log::describe(char* out, size_t cap) {
    char buf[768];
    size_t n = 0;
    auto add = [&](const char* s) {
        const size_t len = strlen(s);
        if (n + len < sizeof buf) {
            memcpy(buf + n, s, len);
            n += len;
        }
    };
    auto field = [&](const char* name, uint64_t v) {
        add(name);
        add(":");
        char d[24];
        d[format_u64(v, d)] = '\0';
        add(d);
        add("\r\n");
    };
    add("aof_enabled:1\r\nappendfsync:");
    add(m_mode == Fsync::Always ? "always" : "everysec");
    add("\r\naof_last_write_status:");
    add(m_broken ? "err" : "ok");
    add("\r\n");
    field("log_generation", m_sb.generation);
    field("log_epoch", m_sb.epoch);
    field("log_area", m_sb.active);
    field("log_area_bytes", m_sb.area_bytes);
    field("log_used_bytes", m_area_end);
    field("log_pending_bytes", m_pending_len);
    field("log_commits", m_commits);
    field("log_failed_commits", m_failed_commits);
    field("log_compactions", m_compactions);
    field("log_records_replayed", m_records_replayed);
    field("log_bytes_discarded_at_boot", m_bytes_discarded);
    const size_t take = n < cap ? n : cap;
    memcpy(out, buf, take);
    return take;
}

}  // namespace kv
