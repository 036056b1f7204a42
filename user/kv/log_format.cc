#include "user/kv/log_format.h"

namespace kv::log {

namespace {

struct CrcTable {
    uint32_t t[256];
    constexpr CrcTable() : t() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            t[i] = c;
        }
    }
};
constexpr CrcTable kCrc;

void put32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get32(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{p[i]} << (8 * i);
    return v;
}
uint64_t get64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
    return v;
}

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (p[i] != 0) return false;
    }
    return true;
}

}  // namespace

uint32_t crc32c(const void* p, size_t n, uint32_t crc) {
    const auto* b = static_cast<const uint8_t*>(p);
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = kCrc.t[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

void encode_record_header(const Record& r, uint8_t* out) {
    put32(out + 0, kRecordMagic);
    put32(out + 8, r.generation);
    put32(out + 12, r.epoch);
    put64(out + 16, r.seq);
    put64(out + 24, static_cast<uint64_t>(r.time_ms));
    put64(out + 32, static_cast<uint64_t>(r.expire_ms));
    out[40] = static_cast<uint8_t>(r.type);
    out[41] = out[42] = out[43] = 0;
    put32(out + 44, static_cast<uint32_t>(r.key.n));
    put32(out + 48, static_cast<uint32_t>(r.value.n));
    uint32_t crc = crc32c(out + 8, kRecordHeader - 8);
    crc = crc32c(r.key.p, r.key.n, crc);
    crc = crc32c(r.value.p, r.value.n, crc);
    put32(out + 4, crc);
}

void encode_record(const Record& r, uint8_t* out) {
    encode_record_header(r, out);
    if (r.key.n != 0) memcpy(out + kRecordHeader, r.key.p, r.key.n);
    if (r.value.n != 0) memcpy(out + kRecordHeader + r.key.n, r.value.p, r.value.n);
}

Decode decode_record(const uint8_t* p, size_t avail, Record* out, size_t* size) {
    *size = 0;
    if (avail < kRecordHeader) {
        // A record starts with its (non-zero) magic, so zeros are never one.
        if (avail >= 4 && all_zero(p, avail)) return Decode::Empty;
        if (avail >= 4 && get32(p) != kRecordMagic) return Decode::Corrupt;
        return Decode::NeedMore;
    }
    if (get32(p) != kRecordMagic) return all_zero(p, kRecordHeader) ? Decode::Empty : Decode::Corrupt;
    const uint32_t klen = get32(p + 44), vlen = get32(p + 48);
    const uint8_t type = p[40];
    if (type < 1 || type > 4 || klen > kMaxRecordPayload || vlen > kMaxRecordPayload - klen) return Decode::Corrupt;
    const size_t total = record_size(klen, vlen);
    *size = total;
    if (avail < total) return Decode::NeedMore;
    if (crc32c(p + 8, total - 8) != get32(p + 4)) return Decode::Corrupt;
    out->type = static_cast<RecordType>(type);
    out->generation = get32(p + 8);
    out->epoch = get32(p + 12);
    out->seq = get64(p + 16);
    out->time_ms = static_cast<int64_t>(get64(p + 24));
    out->expire_ms = static_cast<int64_t>(get64(p + 32));
    out->key = Slice(p + kRecordHeader, klen);
    out->value = Slice(p + kRecordHeader + klen, vlen);
    return Decode::Ok;
}

bool layout_for(uint64_t capacity, Superblock* out) {
    if (capacity < kAreasStart) return false;
    const uint64_t area = ((capacity - kAreasStart) / 2) & ~uint64_t{4095};
    if (area < (64u << 10)) return false;
    *out = Superblock{};
    out->area_offset[0] = kAreasStart;
    out->area_offset[1] = kAreasStart + area;
    out->area_bytes = area;
    return true;
}

void encode_superblock(const Superblock& sb, uint8_t* sector) {
    memset(sector, 0, kSector);
    put32(sector + 0, kSuperMagic);
    put32(sector + 4, kSuperVersion);
    put64(sector + 8, sb.serial);
    put32(sector + 16, sb.generation);
    put32(sector + 20, sb.epoch);
    put32(sector + 24, sb.active);
    put64(sector + 32, sb.area_offset[0]);
    put64(sector + 40, sb.area_offset[1]);
    put64(sector + 48, sb.area_bytes);
    put32(sector + 56, crc32c(sector, 56));
}

bool decode_superblock(const uint8_t* sector, uint64_t capacity, Superblock* out) {
    if (get32(sector) != kSuperMagic || get32(sector + 4) != kSuperVersion) return false;
    if (crc32c(sector, 56) != get32(sector + 56)) return false;
    Superblock sb;
    sb.serial = get64(sector + 8);
    sb.generation = get32(sector + 16);
    sb.epoch = get32(sector + 20);
    sb.active = get32(sector + 24);
    sb.area_offset[0] = get64(sector + 32);
    sb.area_offset[1] = get64(sector + 40);
    sb.area_bytes = get64(sector + 48);
    if (sb.active > 1 || sb.area_bytes == 0 || sb.area_bytes % kSector != 0) return false;
    for (uint64_t off : sb.area_offset) {
        if (off < kAreasStart || off % kSector != 0 || off > capacity || sb.area_bytes > capacity - off) return false;
    }
    *out = sb;
    return true;
}

bool Scanner::belongs(const Record& r) const {
    return r.generation == m_generation && r.epoch <= m_max_epoch && r.epoch >= m_last_epoch &&
           (m_records == 0 || r.seq == m_next_seq);
}

}  // namespace kv::log
