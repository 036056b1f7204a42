// The incremental request parser: heads split anywhere, pipelining, and
// each refusal with its status.
#include "user/httpd/request_parser.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace httpd {
namespace {

std::string s(Str v) { return std::string(v.p, v.n); }

struct Parsed {
    ParseResult r;
    Request req;
};

// The request's views point into its text: every parsed text is kept for
// the test program's life.
std::deque<std::string> g_texts;

Parsed parse_all(const std::string& input, Limits limits = Limits{}) {
    const std::string& text = g_texts.emplace_back(input);
    RequestParser p(limits);
    Parsed out;
    out.r = p.parse(text.data(), text.size(), &out.req);
    return out;
}

uint16_t error_of(const std::string& text, Limits limits = Limits{}) {
    const Parsed p = parse_all(text, limits);
    return p.r.status == ParseStatus::Error ? p.r.error : 0;
}

TEST(HttpdParser, SimpleGet) {
    const std::string text = "GET /index.html HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"abc\"\r\n\r\n";
    const Parsed p = parse_all(text);
    ASSERT_EQ(p.r.status, ParseStatus::Done);
    EXPECT_EQ(p.r.head_bytes, text.size());
    EXPECT_EQ(p.req.method, Method::Get);
    EXPECT_EQ(s(p.req.target), "/index.html");
    EXPECT_EQ(p.req.version_minor, 1);
    EXPECT_TRUE(p.req.keep_alive);
    EXPECT_TRUE(p.req.has_if_none_match);
    EXPECT_EQ(s(p.req.if_none_match), "\"abc\"");
    EXPECT_EQ(p.req.content_length, 0u);
}

TEST(HttpdParser, EveryByteSplitGivesTheSameRequest) {
    const std::string text = "HEAD /a/b.css?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    RequestParser p;
    Request req;
    for (size_t n = 1; n < text.size(); ++n) {
        // The buffer only grows between calls, as a connection's does.
        EXPECT_EQ(p.parse(text.data(), n, &req).status, ParseStatus::NeedMore) << n;
    }
    const ParseResult r = p.parse(text.data(), text.size(), &req);
    ASSERT_EQ(r.status, ParseStatus::Done);
    EXPECT_EQ(r.head_bytes, text.size());
    EXPECT_EQ(req.method, Method::Head);
    EXPECT_FALSE(req.keep_alive);
}

TEST(HttpdParser, PipelinedRequestsOneAfterAnother) {
    const std::string text =
        "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHo";
    RequestParser p;
    size_t off = 0;
    for (const char* want : {"/1", "/2"}) {
        Request req;
        const ParseResult r = p.parse(text.data() + off, text.size() - off, &req);
        ASSERT_EQ(r.status, ParseStatus::Done);
        EXPECT_EQ(s(req.target), want);
        off += r.head_bytes;
        p.reset();
    }
    Request req;
    EXPECT_EQ(p.parse(text.data() + off, text.size() - off, &req).status, ParseStatus::NeedMore);
}

TEST(HttpdParser, BareLfAndLeadingEmptyLinesAccepted) {
    const Parsed p = parse_all("\r\n\nGET / HTTP/1.1\nHost: h\n\n");
    ASSERT_EQ(p.r.status, ParseStatus::Done);
    EXPECT_EQ(s(p.req.target), "/");
}

TEST(HttpdParser, KeepAliveDefaultsByVersion) {
    EXPECT_FALSE(parse_all("GET / HTTP/1.0\r\n\r\n").req.keep_alive);
    EXPECT_TRUE(parse_all("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").req.keep_alive);
    EXPECT_TRUE(parse_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n").req.keep_alive);
    EXPECT_FALSE(parse_all("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n").req.keep_alive);
    EXPECT_EQ(parse_all("GET / HTTP/1.0\r\n\r\n").r.status, ParseStatus::Done) << "1.0 needs no Host";
    EXPECT_EQ(parse_all("GET / HTTP/1.2\r\nHost: h\r\n\r\n").req.version_minor, 2) << "a later 1.x is served as 1.1";
}

TEST(HttpdParser, OtherMethodsParseForA405) {
    const Parsed p = parse_all("DELETE /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    ASSERT_EQ(p.r.status, ParseStatus::Done);
    EXPECT_EQ(p.req.method, Method::Other);
    EXPECT_EQ(p.req.content_length, 5u);
    EXPECT_EQ(p.req.method, parse_all("get / HTTP/1.1\r\nHost: h\r\n\r\n").req.method) << "methods are case-sensitive";
}

TEST(HttpdParser, MalformedRequestLines) {
    for (const char* bad : {"GET /\r\nHost: h\r\n\r\n", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
                            "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "GET / http/1.1\r\nHost: h\r\n\r\n",
                            "GET / HTTP/1.10\r\nHost: h\r\n\r\n", "GET / HTTP/1\r\nHost: h\r\n\r\n",
                            "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
                            "GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", " GET / HTTP/1.1\r\nHost: h\r\n\r\n"}) {
        EXPECT_EQ(error_of(bad), 400) << bad;
    }
}

TEST(HttpdParser, BinaryJunkRefusedBeforeTheHeadEnds) {
    EXPECT_EQ(error_of(std::string("\x16\x03\x01\x02\x00", 5)), 400) << "a TLS hello";
    EXPECT_EQ(error_of(std::string("GE\0T", 4)), 400);
}

TEST(HttpdParser, MalformedFieldLines) {
    for (const char* bad : {"GET / HTTP/1.1\r\nHost h\r\n\r\n", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
                            "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
                            "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n",
                            "GET / HTTP/1.1\r\nHo(st: h\r\n\r\n"}) {
        EXPECT_EQ(error_of(bad), 400) << bad;
    }
}

TEST(HttpdParser, HostMustBeThereOnceIn11) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

TEST(HttpdParser, SmugglingAttemptsRefused) {
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"), 400);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n"), 400);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4, 4\r\n\r\n"), 400);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), 400);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
    // The same length twice is one length.
    const Parsed p = parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    ASSERT_EQ(p.r.status, ParseStatus::Done);
    EXPECT_EQ(p.req.content_length, 3u);
}

TEST(HttpdParser, Limits) {
    Limits l;
    l.max_head = 512;
    l.max_target = 100;
    l.max_body = 1000;
    EXPECT_EQ(error_of("GET /" + std::string(150, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", l), 414);
    EXPECT_EQ(error_of("GET /" + std::string(200, 'a'), l), 414) << "known before the line ends";
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(600, 'v'), l), 431);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(600, 'v') + "\r\n\r\n", l), 431);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n", l), 413);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", l), 413);
    EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
    EXPECT_EQ(error_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
}

}  // namespace
}  // namespace httpd
