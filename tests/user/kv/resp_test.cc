// The RESP2 request parser: multibulk and inline requests, partial input at
// every split point, pipelining, and each kind of malformed input.
#include "user/kv/resp.h"

#include <gtest/gtest.h>

#include <string>

namespace kv {
namespace {

constexpr size_t kLimit = 1 << 20;

std::string arg(const Request& r, size_t i) { return std::string(reinterpret_cast<const char*>(r.argv[i].p), r.argv[i].n); }

// Parses a copy that outlives the call: the arguments point into it.
ParseResult parse(const std::string& s, Request& r, size_t limit = kLimit) {
    static std::string kept;
    kept = s;
    return parse_request(reinterpret_cast<const uint8_t*>(kept.data()), kept.size(), limit, r);
}

TEST(KvResp, MultibulkRequest) {
    static Request r;
    const std::string s = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhe\r\no\r\n";
    const ParseResult p = parse(s, r);
    ASSERT_EQ(p.status, ParseStatus::Complete);
    EXPECT_EQ(p.consumed, s.size());
    ASSERT_EQ(r.argc, 3u);
    EXPECT_EQ(arg(r, 0), "SET");
    EXPECT_EQ(arg(r, 1), "a");
    EXPECT_EQ(arg(r, 2), "he\r\no");  // binary-safe: CRLF inside a bulk string
}

TEST(KvResp, EveryPrefixNeedsMoreAndTheWholeCompletes) {
    static Request r;
    const std::string s = "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
    for (size_t cut = 0; cut < s.size(); ++cut) {
        EXPECT_EQ(parse(s.substr(0, cut), r).status, ParseStatus::NeedMore) << cut;
    }
    const ParseResult p = parse(s, r);
    ASSERT_EQ(p.status, ParseStatus::Complete);
    EXPECT_EQ(arg(r, 1), "");
}

TEST(KvResp, PipelinedRequestsOneAtATime) {
    static Request r;
    const std::string s = "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPI";
    size_t off = 0;
    std::vector<std::string> names;
    for (;;) {
        const ParseResult p = parse(s.substr(off), r);
        if (p.status != ParseStatus::Complete) {
            EXPECT_EQ(p.status, ParseStatus::NeedMore);
            break;
        }
        names.push_back(arg(r, 0));
        off += p.consumed;
    }
    EXPECT_EQ(names, (std::vector<std::string>{"PING", "PING", "GET"}));
    EXPECT_EQ(s.substr(off), "*1\r\n$4\r\nPI");
}

TEST(KvResp, InlineCommands) {
    static Request r;
    ParseResult p = parse("SET  k\tv\r\n", r);
    ASSERT_EQ(p.status, ParseStatus::Complete);
    ASSERT_EQ(r.argc, 3u);
    EXPECT_EQ(arg(r, 2), "v");
    p = parse("PING\n", r);  // a bare LF ends an inline line too
    ASSERT_EQ(p.status, ParseStatus::Complete);
    EXPECT_EQ(p.consumed, 5u);
    p = parse("\r\n", r);  // an empty line: skipped without a reply
    ASSERT_EQ(p.status, ParseStatus::Complete);
    EXPECT_EQ(r.argc, 0u);
    EXPECT_EQ(parse("PIN", r).status, ParseStatus::NeedMore);
}

TEST(KvResp, EmptyAndNullMultibulkAreSkipped) {
    static Request r;
    ParseResult p = parse("*0\r\n", r);
    EXPECT_EQ(p.status, ParseStatus::Complete);
    EXPECT_EQ(r.argc, 0u);
    p = parse("*-1\r\n", r);
    EXPECT_EQ(p.status, ParseStatus::Complete);
    EXPECT_EQ(p.consumed, 5u);
}

TEST(KvResp, BadLengthPrefixes) {
    static Request r;
    struct Case {
        const char* in;
        const char* error;
    } cases[] = {
        {"*x\r\n", "invalid multibulk length"},
        {"*1048577\r\n", "invalid multibulk length"},
        {"*+1\r\n", "invalid multibulk length"},
        {"*1\r\n$-1\r\n", "invalid bulk length"},
        {"*1\r\n$abc\r\n", "invalid bulk length"},
        {"*1\r\n$536870913\r\n", "invalid bulk length"},  // above Redis's 512 MB
        {"*1\r\n$1073741824\r\n", "invalid bulk length"},  // the 1 GiB header
        {"*1\r\n:1\r\n", "expected '$', got ':'"},
        {"*1\r\n\x01", "expected '$', got '?'"},
        {"*1\r\n$1\r\nab\r\n", "bulk string not ended by CRLF"},
    };
    for (const Case& c : cases) {
        const ParseResult p = parse(c.in, r);
        ASSERT_EQ(p.status, ParseStatus::Error) << c.in;
        EXPECT_STREQ(p.error, c.error) << c.in;
    }
}

TEST(KvResp, HugeDeclaredLengthsAreRefusedBeforeTheBytesArrive) {
    static Request r;
    // 100 MB is valid RESP but more than this connection may buffer: refused
    // at the header, not after buffering towards it.
    ParseResult p = parse("*2\r\n$3\r\nSET\r\n$100000000\r\n", r, 1 << 20);
    ASSERT_EQ(p.status, ParseStatus::Error);
    EXPECT_STREQ(p.error, "request too large for this server's input buffer");
    // Many small arguments adding up past the limit: refused too.
    std::string s = "*3\r\n$3\r\nSET\r\n$600\r\n" + std::string(600, 'a') + "\r\n$600\r\n";
    p = parse(s, r, 1024);
    EXPECT_EQ(p.status, ParseStatus::Error);
}

TEST(KvResp, OverlongHeaderAndInlineLinesAreErrors) {
    static Request r;
    EXPECT_EQ(parse(std::string(kMaxInline + 1, 'a'), r).status, ParseStatus::Error);
    EXPECT_STREQ(parse("*" + std::string(kMaxInline + 1, '1'), r).error, "too big mbulk count string");
    EXPECT_STREQ(parse("*1\r\n$" + std::string(kMaxInline + 1, '1'), r).error, "too big bulk count string");
}

TEST(KvResp, TooManyArguments) {
    static Request r;
    std::string s = "*" + std::to_string(kMaxArgs + 1) + "\r\n";
    EXPECT_EQ(parse(s, r).status, ParseStatus::Error);
}

}  // namespace
}  // namespace kv
