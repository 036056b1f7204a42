// The log on a real storage queue: the libOS's loopback backend with the
// host's file-backed disk (RINGLET_DISK). Group commit, restart recovery,
// a torn tail, compaction (and a crash before its superblock), a failed
// flush.
#include "user/kv/journal.h"

#include <demi/libos.h>
#include <demi/wait.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "libos/pdpix/ringlet_demi.h"

namespace kv {
namespace {

std::string str(Slice s) { return std::string(reinterpret_cast<const char*>(s.p), s.n); }

class KvLog : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/kv_journal_XXXXXX";
        const int fd = mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        close(fd);
        path = tmpl;
        setenv("RINGLET_DISK", path.c_str(), 1);
        setenv("RINGLET_DISK_SIZE", "1048576", 1);  // 1 MiB: two areas of ~510 KiB
    }
    void TearDown() override {
        stop();
        unsetenv("RINGLET_DISK");
        unsetenv("RINGLET_DISK_SIZE");
        unsetenv("RINGLET_DISK_FAIL_FLUSH");
        unlink(path.c_str());
    }
    // A boot: the libOS, the disk, a fresh store, recovery.
    int boot(Log::Fsync mode = Log::Fsync::Always) {
        stop();
        char name[] = "journal_test";
        char backend[] = "--backend=loopback";
        char* argv[] = {name, backend};
        demi_args args{2, argv, nullptr};
        if (demi_init(&args) != 0) return -1;
        running = true;
        disk = std::make_unique<Disk>();
        if (const int e = disk->open(); e != 0) return e;
        store = std::make_unique<Store>();
        log = std::make_unique<Log>(*disk, *store, mode);
        int64_t offset = 0;
        return log->recover(1000, &offset);
    }
    void stop() {
        log.reset();
        store.reset();
        disk.reset();
        if (running) ringlet_demi_shutdown();
        running = false;
    }
    // Runs commits until nothing is pending or in flight (at most `rounds`).
    void drive(int rounds = 100) {
        for (int round = 0; round < rounds; ++round) {
            log->commit();
            if (!log->in_flight()) return;
            while (log->in_flight()) {
                demi_qtoken_t qt[16];
                ASSERT_GT(log->tokens(qt, 16), 0);
                demi_qresult_t qr;
                ASSERT_EQ(demi_wait(&qr, qt[0], nullptr), 0);
                log->complete(0, qr);
            }
        }
    }
    void set(const std::string& k, const std::string& v) {
        ASSERT_TRUE(log->reserve(k.size() + v.size()));
        ASSERT_TRUE(store->set(Slice(k.c_str()), Slice(v.c_str()), 0));
        log->record_set(Slice(k.c_str()), Slice(v.c_str()), 0);
    }
    std::string get(const std::string& k) {
        Entry* e = store->find(Slice(k.c_str()));
        return e == nullptr ? "(nil)" : str(e->value_slice());
    }
    std::vector<uint8_t> read_file(size_t off, size_t n) {
        std::vector<uint8_t> b(n);
        const int fd = open(path.c_str(), O_RDONLY);
        EXPECT_EQ(pread(fd, b.data(), n, static_cast<off_t>(off)), static_cast<ssize_t>(n));
        close(fd);
        return b;
    }
    void write_file(size_t off, const std::vector<uint8_t>& b) {
        const int fd = open(path.c_str(), O_WRONLY);
        EXPECT_EQ(pwrite(fd, b.data(), b.size(), static_cast<off_t>(off)), static_cast<ssize_t>(b.size()));
        close(fd);
    }

    std::string path;
    bool running = false;
    std::unique_ptr<Disk> disk;
    std::unique_ptr<Store> store;
    std::unique_ptr<Log> log;
};

TEST_F(KvLog, CommitsBecomeDurableAndSurviveARestart) {
    ASSERT_EQ(boot(), 0);
    set("a", "1");
    set("b", "2");
    const uint64_t lsn = log->lsn();
    EXPECT_LT(log->durable_lsn(), lsn);
    drive();
    EXPECT_EQ(log->durable_lsn(), lsn);
    set("a", "3");  // the partial last sector is rewritten with it
    drive();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(get("a"), "3");
    EXPECT_EQ(get("b"), "2");
    set("c", "4");
    drive();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(store->size(), 3u);
    EXPECT_EQ(get("c"), "4");
}

TEST_F(KvLog, ConcurrentWritersShareOneCommit) {
    ASSERT_EQ(boot(), 0);
    set("first", "1");
    log->commit();  // in flight now
    ASSERT_TRUE(log->in_flight());
    for (int i = 0; i < 50; ++i) set("k" + std::to_string(i), "v");  // all wait for the next commit
    drive();
    char info[1024];
    const std::string text(info, log->describe(info, sizeof info));
    EXPECT_NE(text.find("log_commits:2\r\n"), std::string::npos) << text;
}

TEST_F(KvLog, DeletesExpiriesAndFlushallReplay) {
    ASSERT_EQ(boot(), 0);
    set("a", "1");
    set("b", "2");
    set("c", "3");
    store->del(Slice("a"));
    log->record_del(Slice("a"));
    store->set_expire(store->find(Slice("b")), 99999);
    log->record_expire(Slice("b"), 99999);
    drive();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(get("a"), "(nil)");
    EXPECT_EQ(store->find(Slice("b"))->expire_ms, 99999);
    log->record_flushall();
    store->clear();
    set("z", "26");
    drive();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(store->size(), 1u);
    EXPECT_EQ(get("z"), "26");
}

TEST_F(KvLog, TornTailIsTruncatedAndLaterWritesFollowIt) {
    ASSERT_EQ(boot(), 0);
    set("keep", "1");
    drive();
    const uint64_t good = log->lsn();
    set("torn", std::string(300, 'x'));
    drive();
    // Damage the second record's last bytes on the disk, as a write cut
    // short would.
    const size_t area0 = log::kAreasStart;
    std::vector<uint8_t> junk(8, 0xee);
    write_file(area0 + good + 300, junk);
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(get("keep"), "1");
    EXPECT_EQ(get("torn"), "(nil)");
    char info[1024];
    std::string text(info, log->describe(info, sizeof info));
    EXPECT_NE(text.find("log_bytes_discarded_at_boot:356\r\n"), std::string::npos) << text;
    set("after", "2");
    drive();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(get("keep"), "1");
    EXPECT_EQ(get("after"), "2");
    EXPECT_EQ(get("torn"), "(nil)");
}

TEST_F(KvLog, CompactionKeepsTheDataAndACrashBeforeItsSuperblockLosesNothing) {
    ASSERT_EQ(boot(), 0);
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 10; ++i) set("k" + std::to_string(i), std::to_string(round));
    }
    drive();
    const std::vector<uint8_t> old_super = read_file(0, 1024);
    ASSERT_TRUE(log->request_compaction());
    set("post", "1");
    drive();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(store->size(), 11u);
    EXPECT_EQ(get("k3"), "19");
    EXPECT_EQ(get("post"), "1");
    char info[1024];
    std::string text(info, log->describe(info, sizeof info));
    EXPECT_NE(text.find("log_generation:2\r\n"), std::string::npos) << text;
    // Put the superblocks back as they were before the compaction: as if
    // the machine died after the snapshot, before the superblock. The old
    // area still holds everything that had been acknowledged then.
    stop();
    write_file(0, old_super);
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(store->size(), 10u);
    EXPECT_EQ(get("k9"), "19");
}

TEST_F(KvLog, AFullAreaCompactsItselfAndThenRefuses) {
    ASSERT_EQ(boot(), 0);
    const std::string value(1000, 'v');
    // Overwriting one key forever: compaction keeps making room.
    for (int i = 0; i < 2000; ++i) {
        set("same", value);
        if (i % 50 == 0) drive();
    }
    drive();
    // Distinct keys: eventually the live data no longer fits.
    int refused = 0;
    for (int i = 0; i < 2000 && refused == 0; ++i) {
        const std::string k = "k" + std::to_string(i);
        if (!log->reserve(k.size() + value.size())) {
            ++refused;
            break;
        }
        store->set(Slice(k.c_str()), Slice(value.c_str()), 0);
        log->record_set(Slice(k.c_str()), Slice(value.c_str()), 0);
        if (i % 50 == 0) drive();
    }
    EXPECT_EQ(refused, 1);
    drive();
    const size_t keys = store->size();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(store->size(), keys);  // everything accepted is there
}

TEST_F(KvLog, AFullLogStillTakesDeletesAndThenWritesAgain) {
    ASSERT_EQ(boot(), 0);
    const std::string value(1000, 'v');
    std::vector<std::string> keys;
    for (int i = 0;; ++i) {
        const std::string k = "k" + std::to_string(i);
        if (!log->reserve(k.size() + value.size())) break;
        ASSERT_LT(i, 10000) << "the log never filled";
        store->set(Slice(k.c_str()), Slice(value.c_str()), 0);
        log->record_set(Slice(k.c_str()), Slice(value.c_str()), 0);
        keys.push_back(k);
        if (i % 50 == 0) drive();
    }
    drive();
    // Fill the area's last bytes with small keys, so a delete cannot simply
    // append: it has to compact, with more than 3/4 of an area live.
    for (int i = 0;; ++i) {
        const std::string k = "s" + std::to_string(i);
        if (!log->reserve(k.size() + 1)) break;
        ASSERT_LT(i, 100000) << "the log never filled";
        store->set(Slice(k.c_str()), Slice("x"), 0);
        log->record_set(Slice(k.c_str()), Slice("x"), 0);
        drive();
    }
    ASSERT_FALSE(log->reserve(4)) << "a write of a deletion's size still fits: the test proves nothing";
    // Delete every other key: each must be accepted.
    for (size_t i = 0; i < keys.size(); i += 2) {
        ASSERT_TRUE(log->reserve_freeing(keys[i].size())) << "delete " << i << " refused on a full log";
        store->del(Slice(keys[i].c_str()));
        log->record_del(Slice(keys[i].c_str()));
        drive();
    }
    EXPECT_TRUE(log->reserve(2 + value.size())) << "no room after deleting half the keys";
    const size_t left = store->size();
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(store->size(), left);
    EXPECT_EQ(get("k1"), value);
    EXPECT_EQ(get("k0"), "(nil)");
}

TEST_F(KvLog, AFailedFlushFailsItsCommitAndTheNextOneSucceeds) {
    setenv("RINGLET_DISK_FAIL_FLUSH", "2", 1);  // the boot's superblock flush, then this commit's
    ASSERT_EQ(boot(), 0);
    set("a", "1");
    const uint64_t lsn = log->lsn();
    drive(1);
    EXPECT_EQ(log->failed_lsn(), lsn);
    EXPECT_LT(log->durable_lsn(), lsn);
    set("b", "2");
    drive();  // the records of the failed commit go out again with this one
    EXPECT_EQ(log->durable_lsn(), log->lsn());
    unsetenv("RINGLET_DISK_FAIL_FLUSH");
    ASSERT_EQ(boot(), 0);
    EXPECT_EQ(get("a"), "1");
    EXPECT_EQ(get("b"), "2");
}

TEST_F(KvLog, ANonEmptyDiskWithoutSuperblockIsNotFormatted) {
    write_file(0, std::vector<uint8_t>(512, 0x55));
    EXPECT_NE(boot(), 0);
}

}  // namespace
}  // namespace kv
