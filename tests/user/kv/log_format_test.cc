// The log's on-disk format: records, checksums, the superblock, and the
// scanner's rules for where a log ends (clean, torn, stale).
#include "user/kv/log_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kv::log {
namespace {

std::vector<uint8_t> encode(uint32_t gen, uint32_t epoch, uint64_t seq, const char* key, const char* value) {
    Record r;
    r.type = RecordType::Set;
    r.generation = gen;
    r.epoch = epoch;
    r.seq = seq;
    r.key = Slice(key);
    r.value = Slice(value);
    std::vector<uint8_t> out(record_size(r.key.n, r.value.n));
    encode_record(r, out.data());
    return out;
}

void put(std::vector<uint8_t>& area, const std::vector<uint8_t>& rec) { area.insert(area.end(), rec.begin(), rec.end()); }

std::vector<std::string> scan_all(Scanner& sc, const std::vector<uint8_t>& area, size_t piece) {
    std::vector<std::string> keys;
    std::vector<uint8_t> window;
    size_t fed = 0;
    while (sc.state() == Scanner::State::Running) {
        const size_t n = std::min(piece, area.size() - fed);
        window.insert(window.end(), area.begin() + static_cast<long>(fed), area.begin() + static_cast<long>(fed + n));
        fed += n;
        const size_t used = sc.feed(window.data(), window.size(), fed == area.size(), [&](const Record& r) {
            keys.emplace_back(reinterpret_cast<const char*>(r.key.p), r.key.n);
        });
        window.erase(window.begin(), window.begin() + static_cast<long>(used));
    }
    return keys;
}

TEST(KvLogFormat, Crc32cKnownAnswer) {
    EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);  // the standard check value
    // Continuing a checksum over pieces equals one pass.
    EXPECT_EQ(crc32c("6789", 4, crc32c("12345", 5)), 0xe3069283u);
}

TEST(KvLogFormat, RecordRoundTrip) {
    Record r;
    r.type = RecordType::Expire;
    r.generation = 3;
    r.epoch = 9;
    r.seq = 77;
    r.time_ms = 123456;
    r.expire_ms = -5;
    r.key = Slice("key");
    std::vector<uint8_t> b(record_size(3, 0));
    encode_record(r, b.data());
    Record d;
    size_t size = 0;
    ASSERT_EQ(decode_record(b.data(), b.size(), &d, &size), Decode::Ok);
    EXPECT_EQ(size, b.size());
    EXPECT_EQ(d.type, RecordType::Expire);
    EXPECT_EQ(d.seq, 77u);
    EXPECT_EQ(d.time_ms, 123456);
    EXPECT_EQ(d.expire_ms, -5);
    EXPECT_TRUE(d.key == Slice("key"));
    // Every single flipped bit is caught.
    for (size_t i = 0; i < b.size() * 8; ++i) {
        std::vector<uint8_t> bad = b;
        bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
        EXPECT_NE(decode_record(bad.data(), bad.size(), &d, &size), Decode::Ok) << i;
    }
}

TEST(KvLogFormat, ScannerReadsRecordsSplitAnywhere) {
    std::vector<uint8_t> area;
    for (int i = 0; i < 20; ++i) put(area, encode(1, 1, static_cast<uint64_t>(i + 1), std::to_string(i).c_str(), "v"));
    const size_t used = area.size();
    area.resize(used + 4096, 0);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{64}, size_t{100000}}) {
        Scanner sc(1, 1);
        EXPECT_EQ(scan_all(sc, area, piece).size(), 20u) << piece;
        EXPECT_EQ(sc.state(), Scanner::State::CleanEnd);
        EXPECT_EQ(sc.offset(), used);
        EXPECT_EQ(sc.next_seq(), 21u);
    }
}

TEST(KvLogFormat, TornTailIsDetectedAndMeasured) {
    std::vector<uint8_t> area;
    put(area, encode(1, 1, 1, "a", "1"));
    const size_t good = area.size();
    std::vector<uint8_t> torn = encode(1, 1, 2, "b", "2222222222");
    torn.resize(torn.size() - 4);  // the write stopped short
    put(area, torn);
    area.resize(8192, 0);
    Scanner sc(1, 1);
    EXPECT_EQ(scan_all(sc, area, 512), std::vector<std::string>{"a"});
    EXPECT_EQ(sc.state(), Scanner::State::TornTail);
    EXPECT_EQ(sc.offset(), good);
    EXPECT_EQ(sc.discarded(), torn.size() + 4);  // the length the torn record claimed
}

TEST(KvLogFormat, GarbageAfterTheLogIsATornTail) {
    std::vector<uint8_t> area;
    put(area, encode(1, 1, 1, "a", "1"));
    area.resize(area.size() + 100, 0xab);
    area.resize(4096, 0);
    Scanner sc(1, 1);
    scan_all(sc, area, 4096);
    EXPECT_EQ(sc.state(), Scanner::State::TornTail);
    EXPECT_EQ(sc.records(), 1u);
}

TEST(KvLogFormat, StaleRecordsEndTheLogCleanly) {
    // An older generation (the area's previous use) ends the log.
    std::vector<uint8_t> area;
    put(area, encode(2, 1, 1, "new", "1"));
    put(area, encode(1, 1, 2, "old", "1"));
    Scanner sc(2, 1);
    EXPECT_EQ(scan_all(sc, area, 4096), std::vector<std::string>{"new"});
    EXPECT_EQ(sc.state(), Scanner::State::CleanEnd);
}

TEST(KvLogFormat, EpochRuleKeepsRecordsBehindATruncationOut) {
    // Boot 1 wrote seq 1..3; seq 2 was torn, so boot 2 truncated there and
    // wrote its own seq 2 of the same length. The old seq 3 now follows it
    // with the right sequence number, but from an older epoch: not taken.
    std::vector<uint8_t> area;
    put(area, encode(1, 1, 1, "a", "1"));
    put(area, encode(1, 2, 2, "b", "2"));
    put(area, encode(1, 1, 3, "c", "3"));
    Scanner sc(1, 2);
    EXPECT_EQ(scan_all(sc, area, 4096), (std::vector<std::string>{"a", "b"}));
    // And a gap in sequence numbers ends the log too.
    std::vector<uint8_t> gap;
    put(gap, encode(1, 1, 1, "a", "1"));
    put(gap, encode(1, 1, 3, "c", "3"));
    Scanner sc2(1, 1);
    EXPECT_EQ(scan_all(sc2, gap, 4096), std::vector<std::string>{"a"});
}

TEST(KvLogFormat, SuperblockRoundTripAndChecks) {
    Superblock sb;
    ASSERT_TRUE(layout_for(16u << 20, &sb));
    EXPECT_EQ(sb.area_offset[0], kAreasStart);
    EXPECT_EQ(sb.area_offset[1], kAreasStart + sb.area_bytes);
    EXPECT_LE(sb.area_offset[1] + sb.area_bytes, 16u << 20);
    sb.serial = 5;
    sb.generation = 2;
    sb.epoch = 7;
    sb.active = 1;
    uint8_t sector[kSector];
    encode_superblock(sb, sector);
    Superblock back;
    ASSERT_TRUE(decode_superblock(sector, 16u << 20, &back));
    EXPECT_EQ(back.serial, 5u);
    EXPECT_EQ(back.active, 1u);
    EXPECT_FALSE(decode_superblock(sector, 1u << 20, &back));  // areas past a smaller disk
    sector[20] ^= 1;
    EXPECT_FALSE(decode_superblock(sector, 16u << 20, &back));
    EXPECT_FALSE(layout_for(64 * 1024, &sb));
}

}  // namespace
}  // namespace kv::log
