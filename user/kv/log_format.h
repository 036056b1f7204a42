// The on-disk format of kv's append-only log (README: "kv: on-disk format").
//
// Disk: two superblock slots (sectors 0 and 1) and two log areas of equal
// size from byte 4096. A superblock names the active area and the log's
// generation; it is written last, alternating slots (serial % 2), so a torn
// superblock write leaves the other slot valid and the newer valid one wins.
//
// A log area is a sequence of records, back to back, each with a CRC32C over
// everything after its checksum field. A record belongs to the log if its
// magic and checksum hold, its generation is the superblock's, its epoch
// (boot count) never goes down and its sequence number is exactly one more
// than the previous record's. The first record failing these ends the log:
// all zeros or an older generation is a clean end; anything else is a torn
// or corrupt tail, which recovery reports and later appends overwrite. The
// epoch rule makes sure an old record left behind a truncated tail can never
// be taken for a new one.
//
// All integers little-endian. Pure functions: host-tested on byte arrays.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/kv/bytes.h"

namespace kv::log {

constexpr uint32_t kSector = 512;
constexpr uint64_t kAreasStart = 4096;
constexpr size_t kRecordHeader = 52;
constexpr uint32_t kMaxRecordPayload = 1u << 20;  // key + value bytes in one record
constexpr uint32_t kRecordMagic = 0x3152564b;     // "KVR1"
constexpr uint32_t kSuperMagic = 0x4253564b;      // "KVSB"
constexpr uint32_t kSuperVersion = 1;

// Castagnoli CRC32 (the iSCSI/ext4 one), bitwise-reflected, over n bytes,
// continuing from `crc` (0 to start).
uint32_t crc32c(const void* p, size_t n, uint32_t crc = 0);

enum class RecordType : uint8_t { Set = 1, Del = 2, Expire = 3, FlushAll = 4 };

struct Record {
    RecordType type = RecordType::Set;
    uint32_t generation = 0;
    uint32_t epoch = 0;
    uint64_t seq = 0;
    int64_t time_ms = 0;    // the store's clock when written
    int64_t expire_ms = 0;  // Set: absolute expiry or 0; Expire: new expiry, 0 = persist
    Slice key;
    Slice value;  // Set only
};

inline size_t record_size(size_t klen, size_t vlen) { return kRecordHeader + klen + vlen; }
// Writes r at out (record_size(r.key.n, r.value.n) bytes).
void encode_record(const Record& r, uint8_t* out);
// Writes only r's kRecordHeader header bytes (its checksum covering the key
// and value that must follow it), for writers that stream the payload.
void encode_record_header(const Record& r, uint8_t* out);

enum class Decode {
    Ok,        // a record with valid magic, lengths and checksum
    Empty,     // zeros where a header would start: nothing was ever written here
    NeedMore,  // a plausible header whose record runs past `avail`
    Corrupt,   // garbage, impossible lengths or a checksum mismatch
};
// Decodes the record at p (avail bytes readable); *size is its length when
// Ok (and, for Corrupt with a plausible header, the length it claimed).
Decode decode_record(const uint8_t* p, size_t avail, Record* out, size_t* size);

struct Superblock {
    uint64_t serial = 0;  // +1 per superblock write; its slot is serial % 2
    uint32_t generation = 0;
    uint32_t epoch = 0;
    uint32_t active = 0;  // area 0 or 1
    uint64_t area_offset[2] = {0, 0};
    uint64_t area_bytes = 0;
};

// The layout for a disk of `capacity` bytes; false if it is too small
// (less than 64 KiB per area).
bool layout_for(uint64_t capacity, Superblock* out);
// Encodes into one 512-byte sector.
void encode_superblock(const Superblock& sb, uint8_t* sector);
// False unless magic, version, checksum and geometry (inside `capacity`) hold.
bool decode_superblock(const uint8_t* sector, uint64_t capacity, Superblock* out);

// Walks records of one log area in order. Feed it bytes as they are read;
// it calls on_record(const Record&) for each record that belongs to the log
// and stops at the first that does not.
class Scanner {
public:
    enum class State { Running, CleanEnd, TornTail };

    Scanner(uint32_t generation, uint32_t max_epoch) : m_generation(generation), m_max_epoch(max_epoch) {}

    // Scans data[0, n), the bytes at log offset offset(). Returns how many
    // bytes it consumed (whole records); the caller keeps the rest and feeds
    // it again with more behind it. `at_end`: nothing follows these bytes.
    template <typename F>
    size_t feed(const uint8_t* data, size_t n, bool at_end, F&& on_record);

    State state() const { return m_state; }
    uint64_t offset() const { return m_offset; }      // end of the last good record
    uint64_t records() const { return m_records; }
    uint64_t next_seq() const { return m_next_seq; }  // for the next append
    uint32_t last_epoch() const { return m_last_epoch; }
    int64_t last_time_ms() const { return m_last_time; }
    uint64_t discarded() const { return m_discarded; }  // bytes of a torn record

private:
    bool belongs(const Record& r) const;

    uint32_t m_generation;
    uint32_t m_max_epoch;
    State m_state = State::Running;
    uint64_t m_offset = 0;
    uint64_t m_records = 0;
    uint64_t m_next_seq = 1;
    uint32_t m_last_epoch = 0;
    int64_t m_last_time = 0;
    uint64_t m_discarded = 0;
};

template <typename F>
size_t Scanner::feed(const uint8_t* data, size_t n, bool at_end, F&& on_record) {
    size_t pos = 0;
    while (m_state == State::Running) {
        if (pos == n) {
            if (at_end) m_state = State::CleanEnd;
            break;
        }
        Record r;
        size_t size = 0;
        const Decode d = decode_record(data + pos, n - pos, &r, &size);
        if (d == Decode::NeedMore) {
            if (!at_end) break;
            m_state = State::TornTail;  // the area ends inside a record
            m_discarded = n - pos;
            break;
        }
        if (d == Decode::Empty) {
            m_state = State::CleanEnd;
            break;
        }
        if (d == Decode::Corrupt) {
            m_state = State::TornTail;
            m_discarded = size != 0 && size <= n - pos ? size : (n - pos < kSector ? n - pos : kSector);
            break;
        }
        if (!belongs(r)) {  // an older generation or boot: stale, not torn
            m_state = State::CleanEnd;
            break;
        }
        on_record(static_cast<const Record&>(r));
        ++m_records;
        m_next_seq = r.seq + 1;
        m_last_epoch = r.epoch;
        if (r.time_ms > m_last_time) m_last_time = r.time_ms;
        pos += size;
        m_offset += size;
    }
    return pos;
}

}  // namespace kv::log
