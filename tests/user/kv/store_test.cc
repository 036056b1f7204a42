// The store: set/find/delete, growth, lazy and periodic expiry, SCAN's
// cursor across a resize.
#include "user/kv/store.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kv {
namespace {

std::string s(Slice x) { return std::string(reinterpret_cast<const char*>(x.p), x.n); }

TEST(KvStore, SetFindReplaceDelete) {
    Store st;
    EXPECT_EQ(st.find("k"), nullptr);
    ASSERT_TRUE(st.set("k", "v1", 0));
    ASSERT_NE(st.find("k"), nullptr);
    EXPECT_EQ(s(st.find("k")->value_slice()), "v1");
    ASSERT_TRUE(st.set("k", "a much longer value", 0));
    EXPECT_EQ(s(st.find("k")->value_slice()), "a much longer value");
    EXPECT_EQ(st.size(), 1u);
    EXPECT_TRUE(st.del("k"));
    EXPECT_FALSE(st.del("k"));
    EXPECT_EQ(st.size(), 0u);
    EXPECT_EQ(st.payload_bytes(), 0u);
}

// SET's one lookup: locate() finds the place (growing the table first, so
// an insert there needs no rehash), set_at() writes there.
TEST(KvStore, LocateThenSetAtInsertsAcrossAGrowth) {
    Store st;
    for (int i = 0; i < 64; ++i) ASSERT_TRUE(st.set(std::to_string(i).c_str(), "v", 0));  // 64 keys, 64 buckets
    const std::string k = "new";
    const Store::Place p = st.locate(k.c_str());  // grows to 128 buckets here
    EXPECT_EQ(p.entry(), nullptr);
    ASSERT_TRUE(st.set_at(p, k.c_str(), "fresh", 0));
    EXPECT_EQ(st.size(), 65u);
    EXPECT_EQ(s(st.find(k.c_str())->value_slice()), "fresh");
    for (int i = 0; i < 64; ++i) ASSERT_NE(st.find(std::to_string(i).c_str()), nullptr) << i;
    const Store::Place again = st.locate(k.c_str());
    ASSERT_NE(again.entry(), nullptr);
    ASSERT_TRUE(st.set_at(again, k.c_str(), "replaced", 5));
    EXPECT_EQ(s(st.find(k.c_str())->value_slice()), "replaced");
    EXPECT_EQ(st.find(k.c_str())->expire_ms, 5);
    EXPECT_EQ(st.size(), 65u);
}

// An expired entry met by locate() goes (counted), its chain stays whole,
// and the write then inserts the key afresh.
TEST(KvStore, LocateDropsAnExpiredEntryAndKeepsItsChain) {
    Store st;
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(st.set(std::to_string(i).c_str(), "v", i % 2 == 0 ? 10 : 0));
    st.set_now(20);
    for (int i = 0; i < 300; i += 2) {
        const std::string k = std::to_string(i).c_str();
        const Store::Place p = st.locate(k.c_str());
        EXPECT_EQ(p.entry(), nullptr) << i;
        ASSERT_TRUE(st.set_at(p, k.c_str(), "w", 0));
    }
    EXPECT_EQ(st.expired_total(), 150u);
    EXPECT_EQ(st.size(), 300u);
    EXPECT_EQ(st.with_expiry(), 0u);
    for (int i = 0; i < 300; ++i) {
        Entry* e = st.find(std::to_string(i).c_str());
        ASSERT_NE(e, nullptr) << i;
        EXPECT_EQ(s(e->value_slice()), i % 2 == 0 ? "w" : "v");
    }
}

TEST(KvStore, BinaryKeysAndEmptyValues) {
    Store st;
    const uint8_t key[] = {0, 1, 0, 255};
    ASSERT_TRUE(st.set(Slice(key, 4), "", 0));
    Entry* e = st.find(Slice(key, 4));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->vlen, 0u);
    EXPECT_EQ(st.find(Slice(key, 3)), nullptr);
}

TEST(KvStore, GrowsAndKeepsEveryKey) {
    Store st;
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(st.set(std::to_string(i).c_str(), "x", 0));
    for (int i = 0; i < 10000; ++i) ASSERT_NE(st.find(std::to_string(i).c_str()), nullptr) << i;
    EXPECT_EQ(st.size(), 10000u);
}

TEST(KvStore, AppendGrowsInPlace) {
    Store st;
    ASSERT_TRUE(st.set("k", "ab", 0));
    Entry* e = st.find("k");
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(st.append(e, "cd"));
    EXPECT_EQ(e->vlen, 202u);
    EXPECT_EQ(st.payload_bytes(), 203u);
}

TEST(KvStore, LazyExpiry) {
    Store st;
    st.set_now(1000);
    ASSERT_TRUE(st.set("k", "v", 1500));
    EXPECT_EQ(st.with_expiry(), 1u);
    st.set_now(1499);
    EXPECT_NE(st.find("k"), nullptr);
    st.set_now(1500);
    EXPECT_EQ(st.find("k"), nullptr);  // removed when met
    EXPECT_EQ(st.size(), 0u);
    EXPECT_EQ(st.expired_total(), 1u);
    EXPECT_EQ(st.with_expiry(), 0u);
}

TEST(KvStore, PeriodicExpiryRemovesKeysNobodyReads) {
    Store st;
    st.set_now(0);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(st.set(std::to_string(i).c_str(), "v", i % 2 ? 10 : 0));
    st.set_now(10);
    size_t gone = 0;
    for (int round = 0; round < 100 && st.size() > 500; ++round) gone += st.expire_cycle(64);
    EXPECT_EQ(gone, 500u);
    EXPECT_EQ(st.size(), 500u);
}

TEST(KvStore, ScanVisitsEveryKeyEvenAcrossAResize) {
    Store st;
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(st.set(("a" + std::to_string(i)).c_str(), "v", 0));
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int steps = 0;
    do {
        cursor = st.scan(cursor, [&](const Entry& e) { seen.insert(s(e.key_slice())); });
        if (++steps == 5) {  // the table doubles mid-scan
            for (int i = 0; i < 1000; ++i) ASSERT_TRUE(st.set(("b" + std::to_string(i)).c_str(), "v", 0));
        }
    } while (cursor != 0 && steps < 100000);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.count("a" + std::to_string(i))) << i;
}

TEST(KvStore, SetExpireCountsKeysWithExpiry) {
    Store st;
    ASSERT_TRUE(st.set("k", "v", 0));
    Entry* e = st.find("k");
    st.set_expire(e, 100);
    EXPECT_EQ(st.with_expiry(), 1u);
    st.set_expire(e, 0);
    EXPECT_EQ(st.with_expiry(), 0u);
}

}  // namespace
}  // namespace kv
