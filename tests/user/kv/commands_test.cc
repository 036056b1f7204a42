// The command table against the store: every command's replies, worded as
// Redis words them, and what each write records in the journal.
#include "user/kv/commands.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/user/kv/test_reply.h"

namespace kv {
namespace {

class FakeJournal final : public Journal {
public:
    bool reserve(size_t) override { return room; }
    bool reserve_freeing(size_t) override { return room || room_to_free; }
    void record_set(Slice k, Slice v, int64_t e) override { log.push_back("set " + str(k) + " " + str(v) + " " + std::to_string(e)); }
    void record_del(Slice k) override { log.push_back("del " + str(k)); }
    void record_expire(Slice k, int64_t e) override { log.push_back("expire " + str(k) + " " + std::to_string(e)); }
    void record_flushall() override { log.push_back("flushall"); }
    bool request_compaction() override { return true; }
    size_t describe(char* out, size_t cap) override {
        const char t[] = "aof_enabled:1\r\n";
        const size_t n = sizeof t - 1 < cap ? sizeof t - 1 : cap;
        memcpy(out, t, n);
        return n;
    }
    static std::string str(Slice s) { return std::string(reinterpret_cast<const char*>(s.p), s.n); }
    bool room = true;
    bool room_to_free = false;
    std::vector<std::string> log;
};

class KvCommands : public ::testing::Test {
protected:
    std::string run(std::vector<std::string> words) {
        Context ctx{store, stats, &journal};
        execute(ctx, test::make_request(words), reply);
        quit = ctx.quit;
        return reply.take();
    }
    Store store;
    Stats stats;
    FakeJournal journal;
    test::StringReply reply;
    bool quit = false;
};

TEST_F(KvCommands, PingEchoSelectQuit) {
    EXPECT_EQ(run({"PING"}), "+PONG\r\n");
    EXPECT_EQ(run({"ping", "hi"}), "$2\r\nhi\r\n");
    EXPECT_EQ(run({"ECHO", "x y"}), "$3\r\nx y\r\n");
    EXPECT_EQ(run({"SELECT", "0"}), "+OK\r\n");
    EXPECT_EQ(run({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
    EXPECT_EQ(run({"QUIT"}), "+OK\r\n");
    EXPECT_TRUE(quit);
}

TEST_F(KvCommands, UnknownCommandAndArityAreWordedAsRedis) {
    EXPECT_EQ(run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
    EXPECT_EQ(run({"foo", "a", "b"}), "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
    EXPECT_EQ(run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT_EQ(run({"set", "k"}), "-ERR wrong number of arguments for 'set' command\r\n");
    EXPECT_EQ(run({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command\r\n");
    EXPECT_EQ(run({"echo", "\r\n"}).substr(0, 4), "$2\r\n");
    EXPECT_EQ(run({"no\r\nsuch"}), "-ERR unknown command 'no  such', with args beginning with: \r\n");
}

TEST_F(KvCommands, SetGetAndOptions) {
    EXPECT_EQ(run({"GET", "k"}), "$-1\r\n");
    EXPECT_EQ(run({"SET", "k", "v"}), "+OK\r\n");
    EXPECT_EQ(run({"GET", "k"}), "$1\r\nv\r\n");
    EXPECT_EQ(run({"SET", "k", "w", "NX"}), "$-1\r\n");
    EXPECT_EQ(run({"SET", "j", "w", "XX"}), "$-1\r\n");
    EXPECT_EQ(run({"SET", "k", "w", "XX", "GET"}), "$1\r\nv\r\n");
    EXPECT_EQ(run({"SET", "n", "1", "GET"}), "$-1\r\n");
    EXPECT_EQ(run({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error\r\n");
    EXPECT_EQ(run({"SET", "k", "v", "EX"}), "-ERR syntax error\r\n");
    EXPECT_EQ(run({"SET", "k", "v", "EX", "x"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(run({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
    EXPECT_EQ(run({"SET", "k", "v", "EX", "1", "PX", "5"}), "-ERR syntax error\r\n");
    EXPECT_EQ(run({"GETSET", "k", "z"}), "$1\r\nw\r\n");
    EXPECT_EQ(run({"GETSET", "new", "z"}), "$-1\r\n");
}

TEST_F(KvCommands, ExpiryFamily) {
    store.set_now(10'000);
    EXPECT_EQ(run({"SET", "k", "v", "EX", "10"}), "+OK\r\n");
    EXPECT_EQ(run({"TTL", "k"}), ":10\r\n");
    EXPECT_EQ(run({"PTTL", "k"}), ":10000\r\n");
    EXPECT_EQ(run({"PERSIST", "k"}), ":1\r\n");
    EXPECT_EQ(run({"TTL", "k"}), ":-1\r\n");
    EXPECT_EQ(run({"TTL", "none"}), ":-2\r\n");
    EXPECT_EQ(run({"PEXPIRE", "k", "500"}), ":1\r\n");
    EXPECT_EQ(run({"EXPIRE", "k", "5", "NX"}), ":0\r\n");
    EXPECT_EQ(run({"EXPIRE", "k", "5", "GT"}), ":1\r\n");
    EXPECT_EQ(run({"EXPIRE", "k", "1", "NX", "XX"}),
              "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
    EXPECT_EQ(run({"EXPIRE", "k", "1", "FOO"}), "-ERR Unsupported option FOO\r\n");
    EXPECT_EQ(run({"EXPIRE", "none", "5"}), ":0\r\n");
    store.set_now(15'000);
    EXPECT_EQ(run({"GET", "k"}), "$-1\r\n");  // expired lazily
    EXPECT_EQ(run({"SET", "p", "v"}), "+OK\r\n");
    EXPECT_EQ(run({"EXPIRE", "p", "-1"}), ":1\r\n");  // the past deletes
    EXPECT_EQ(run({"EXISTS", "p"}), ":0\r\n");
    EXPECT_EQ(run({"SETEX", "s", "2", "v"}), "+OK\r\n");
    EXPECT_EQ(run({"TTL", "s"}), ":2\r\n");
    EXPECT_EQ(run({"EXPIRE", "s", "9223372036854775807"}), "-ERR invalid expire time in 'expire' command\r\n");
}

TEST_F(KvCommands, Counters) {
    EXPECT_EQ(run({"INCR", "c"}), ":1\r\n");
    EXPECT_EQ(run({"INCRBY", "c", "41"}), ":42\r\n");
    EXPECT_EQ(run({"DECR", "c"}), ":41\r\n");
    EXPECT_EQ(run({"DECRBY", "c", "-9"}), ":50\r\n");
    EXPECT_EQ(run({"GET", "c"}), "$2\r\n50\r\n");
    EXPECT_EQ(run({"SET", "s", "abc"}), "+OK\r\n");
    EXPECT_EQ(run({"INCR", "s"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(run({"INCRBY", "c", "x"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(run({"SET", "m", "9223372036854775807"}), "+OK\r\n");
    EXPECT_EQ(run({"INCR", "m"}), "-ERR increment or decrement would overflow\r\n");
    EXPECT_EQ(run({"DECRBY", "c", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
}

TEST_F(KvCommands, StringsAndMulti) {
    EXPECT_EQ(run({"APPEND", "a", "he"}), ":2\r\n");
    EXPECT_EQ(run({"APPEND", "a", "llo"}), ":5\r\n");
    EXPECT_EQ(run({"STRLEN", "a"}), ":5\r\n");
    EXPECT_EQ(run({"STRLEN", "none"}), ":0\r\n");
    EXPECT_EQ(run({"MSET", "x", "1", "y", "2"}), "+OK\r\n");
    EXPECT_EQ(run({"MGET", "x", "none", "y"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
    EXPECT_EQ(run({"DEL", "x", "y", "none"}), ":2\r\n");
    EXPECT_EQ(run({"EXISTS", "a", "a", "x"}), ":2\r\n");
}

TEST_F(KvCommands, KeysScanDbsizeFlushall) {
    run({"MSET", "user:1", "a", "user:2", "b", "other", "c"});
    EXPECT_EQ(run({"DBSIZE"}), ":3\r\n");
    const std::string keys = run({"KEYS", "user:*"});
    EXPECT_EQ(keys.substr(0, 4), "*2\r\n");
    EXPECT_NE(keys.find("user:1"), std::string::npos);
    EXPECT_EQ(keys.find("other"), std::string::npos);
    const std::string scan = run({"SCAN", "0", "MATCH", "*", "COUNT", "1000"});
    EXPECT_EQ(scan.substr(0, 13), "*2\r\n$1\r\n0\r\n*3");
    EXPECT_EQ(run({"SCAN", "x"}), "-ERR invalid cursor\r\n");
    EXPECT_EQ(run({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error\r\n");
    EXPECT_EQ(run({"SCAN", "0", "TYPE", "list"}), "*2\r\n$1\r\n0\r\n*0\r\n");
    EXPECT_EQ(run({"FLUSHALL"}), "+OK\r\n");
    EXPECT_EQ(run({"DBSIZE"}), ":0\r\n");
}

TEST_F(KvCommands, ServerIntrospection) {
    const std::string info = run({"INFO"});
    EXPECT_NE(info.find("# Keyspace"), std::string::npos);
    EXPECT_NE(info.find("aof_enabled:1"), std::string::npos);
    EXPECT_EQ(run({"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    EXPECT_EQ(run({"CONFIG", "GET", "appendonly"}), "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n");
    EXPECT_EQ(run({"CONFIG", "GET", "nosuch"}), "*0\r\n");
    EXPECT_EQ(run({"COMMAND", "DOCS"}), "*0\r\n");
    EXPECT_EQ(run({"COMMAND", "COUNT"}), ":" + std::to_string(command_count()) + "\r\n");
}

TEST_F(KvCommands, WritesRecordTheirEffect) {
    store.set_now(1000);
    run({"SET", "k", "v", "PX", "100"});
    run({"INCR", "n"});
    run({"INCR", "n"});
    run({"APPEND", "n", "0"});
    run({"PERSIST", "k"});
    run({"DEL", "k"});
    run({"FLUSHALL"});
    run({"GET", "n"});  // reads record nothing
    EXPECT_EQ(journal.log, (std::vector<std::string>{"set k v 1100", "set n 1 0", "set n 2 0", "set n 20 0",
                                                     "expire k 0", "del k", "flushall"}));
}

TEST_F(KvCommands, AFullLogRefusesWritesButServesReads) {
    run({"SET", "k", "v"});
    journal.room = false;
    EXPECT_EQ(run({"SET", "k", "w"}), "-ERR disk full: no room in the append-only log for this write\r\n");
    EXPECT_EQ(run({"INCR", "n"}), "-ERR disk full: no room in the append-only log for this write\r\n");
    EXPECT_EQ(run({"GET", "k"}), "$1\r\nv\r\n");
}

TEST_F(KvCommands, DeletingAsksForRoomToFree) {
    run({"SET", "k", "v"});
    run({"SET", "j", "v"});
    journal.room = false;
    journal.room_to_free = true;
    EXPECT_EQ(run({"DEL", "k"}), ":1\r\n");
    EXPECT_EQ(run({"FLUSHALL"}), "+OK\r\n");
    journal.room_to_free = false;
    EXPECT_EQ(run({"DEL", "j"}), ":0\r\n");  // nothing left to delete, nothing to refuse
    run({"FLUSHALL"});
    EXPECT_EQ(journal.log.back(), "flushall");
}

}  // namespace
}  // namespace kv
