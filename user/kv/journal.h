// Log: kv's append-only log on the storage queue (format: log_format.h),
// the Journal the commands write their effects to.
//
// Group commit. Records are encoded into `pending` as commands run. When no
// commit is in flight, commit() writes everything pending (re-writing the
// partial last sector) and then flushes; records that arrive meanwhile wait
// for the next one, so concurrent writers share one flush. Positions are
// LSNs: bytes ever journaled, monotonic across compactions; a reply that
// depends on a write is held by the server until durable_lsn() reaches the
// LSN its write ended at (appendfsync always). With everysec, replies do not
// wait and a commit runs once a second.
//
// A failed write or flush fails every reply waiting on that commit (the
// server answers -ERR); the records stay pending and go out with the next
// commit, so a refused write may still survive, as in Redis; nothing
// acknowledged before is touched.
//
// Recovery (recover()) and compaction (compact()) are synchronous: they
// run at boot and between commits. Compaction writes a snapshot of the
// store into the other area under the next generation, flushes, then writes
// the superblock naming it and flushes again: a crash before the superblock
// is durable leaves the old area in charge, complete.
#pragma once

#include <demi/types.h>
#include <stddef.h>
#include <stdint.h>

#include "user/kv/commands.h"
#include "user/kv/disk.h"
#include "user/kv/log_format.h"
#include "user/kv/store.h"

namespace kv {

class Log final : public Journal {
public:
    enum class Fsync { Always, Everysec };
    static constexpr size_t kMaxPending = 4u << 20;  // journaled bytes awaiting a commit
    static constexpr size_t kMaxCommit = 512u << 10;  // bytes one commit writes

    Log(Disk& disk, Store& store, Fsync mode) : m_disk(disk), m_store(store), m_mode(mode) {}
    ~Log();

    // Reads the superblock (formatting an empty disk), replays the active
    // area into the store, reports on the console, and starts a new epoch.
    // `clock_ms` is the platform's clock; recovery returns the offset the
    // store's clock must add so time never runs backwards across restarts
    // (Ringlet has no wall clock). Errno on failure (the server stops).
    int recover(int64_t clock_ms, int64_t* clock_offset);

    // ---- Journal ----
    bool reserve(size_t payload_bytes) override;
    bool reserve_freeing(size_t payload_bytes) override;
    void record_set(Slice key, Slice value, int64_t expire_ms) override;
    void record_del(Slice key) override;
    void record_expire(Slice key, int64_t expire_ms) override;
    void record_flushall() override;
    bool request_compaction() override;
    size_t describe(char* out, size_t cap) override;

    // ---- group commit, driven by the server's event loop ----
    Fsync mode() const { return m_mode; }
    uint64_t lsn() const { return m_lsn; }                  // end of what was journaled
    uint64_t durable_lsn() const { return m_durable_lsn; }  // end of what is on disk
    // Starts a commit if none is in flight and records are pending.
    void commit();
    // The qtokens of the commit in flight (the server waits on them too).
    int tokens(demi_qtoken_t* out, int cap) const;
    // The server got the result of tokens()[i]. Returns true when this
    // ended a commit (durable_lsn() or failed_lsn() moved).
    bool complete(int i, const demi_qresult_t& qr);
    // The end LSN of the latest failed commit (0: none): replies held up to
    // it get an error instead of their answer.
    uint64_t failed_lsn() const { return m_failed_lsn; }
    bool in_flight() const { return m_inflight != 0 || m_flushing; }
    // Compacts when the active area is mostly dead records (no commit in
    // flight). Called by the server after commits.
    void maybe_compact();

private:
    bool reserve_room(size_t payload_bytes);
    // Bytes a snapshot of the store takes (records of every live key).
    uint64_t live_bytes() const;
    void append(const log::Record& r);
    int compact();
    int write_superblock(const log::Superblock& sb);
    void finish_inflight();
    void fail_commit();
    // Copies bytes [at, at + n) of tail ++ pending ++ zeros into dst.
    void image(uint8_t* dst, size_t at, size_t n) const;

    Disk& m_disk;
    Store& m_store;
    Fsync m_mode;
    log::Superblock m_sb{};
    uint64_t m_area_end = 0;  // end of durable records in the active area
    uint8_t m_tail[log::kSector] = {};  // the durable bytes of the last partial sector
    uint32_t m_tail_len = 0;
    uint8_t* m_pending = nullptr;  // records after m_area_end, not yet durable
    size_t m_pending_len = 0;
    size_t m_pending_cap = 0;
    uint64_t m_next_seq = 1;
    uint64_t m_lsn = 0;
    uint64_t m_durable_lsn = 0;
    uint64_t m_failed_lsn = 0;
    bool m_broken = false;  // a superblock write failed: refuse writes

    // The commit in flight: its writes, then its flush.
    static constexpr int kMaxWrites = kMaxCommit / Disk::kChunk + 1;
    demi_qtoken_t m_write_qt[kMaxWrites] = {};
    bool m_write_done[kMaxWrites] = {};
    int m_nwrites = 0;
    int m_inflight = 0;
    bool m_flushing = false;
    demi_qtoken_t m_flush_qt = 0;
    int m_commit_error = 0;
    size_t m_commit_len = 0;     // pending bytes this commit covers
    uint64_t m_commit_lsn = 0;   // LSN at its end
    int64_t m_last_commit_ms = 0;

    // Counters for INFO.
    uint64_t m_commits = 0;
    uint64_t m_failed_commits = 0;
    uint64_t m_compactions = 0;
    uint64_t m_records_replayed = 0;
    uint64_t m_bytes_discarded = 0;
};

}  // namespace kv
