// Responses: heads byte for byte where it matters, ETag/304, /stats, errors.
#include "user/httpd/responder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "user/httpd/root_dir.h"

namespace httpd {
namespace {

// A site of two files, packed by --root's packer from a temp directory.
class HttpdResponder : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/httpd_resp_XXXXXX";
        m_dir = mkdtemp(tmpl);
        ASSERT_EQ(system(("printf '<p>hi</p>' > " + m_dir + "/index.html && printf 'p{}' > " + m_dir + "/a.css").c_str()),
                  0);
        size_t n = 0;
        const char* why = "";
        ASSERT_TRUE(pack_directory(m_dir.c_str(), &m_archive, &n, &why)) << why;
        ASSERT_TRUE(m_site.load(m_archive, n, true, &why)) << why;
        m_heads.build(m_site);
    }
    void TearDown() override {
        free(m_archive);
        (void)!system(("rm -rf " + m_dir).c_str());
    }

    // Parses `text` and answers it; the head (and small body) as a string.
    std::string answer(const std::string& text, Response* out = nullptr) {
        RequestParser p;
        Request req;
        const ParseResult r = p.parse(text.data(), text.size(), &req);
        EXPECT_EQ(r.status, ParseStatus::Done) << text;
        const Response resp = respond(req, m_site, m_heads, m_stats, m_buf, sizeof m_buf);
        if (out != nullptr) *out = resp;
        return std::string(m_buf, resp.head_len);
    }

    std::string etag_of(const std::string& head) {
        const size_t at = head.find("ETag: ");
        return at == std::string::npos ? "" : head.substr(at + 6, head.find("\r\n", at) - at - 6);
    }

    std::string m_dir;
    uint8_t* m_archive = nullptr;
    Site m_site;
    FileHeads m_heads;
    Stats m_stats;
    char m_buf[kResponseBuffer];
};

TEST_F(HttpdResponder, GetServesTheFileAfterTheHead) {
    Response r;
    const std::string head = answer("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 200);
    ASSERT_NE(r.file, nullptr);
    EXPECT_EQ(std::string(r.file->path.p, r.file->path.n), "/index.html");
    EXPECT_FALSE(r.close);
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
    EXPECT_NE(head.find("\r\nContent-Type: text/html; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nContent-Length: 9\r\n"), std::string::npos);
    EXPECT_EQ(etag_of(head).size(), 18u) << "a quoted 16-digit hash";
    EXPECT_EQ(head.find("Connection:"), std::string::npos) << "1.1 keep-alive is the default";
    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST_F(HttpdResponder, HeadHasTheLengthButNoBody) {
    Response r;
    const std::string head = answer("HEAD /a.css HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.file, nullptr);
    EXPECT_NE(head.find("\r\nContent-Length: 3\r\n"), std::string::npos);
    EXPECT_NE(head.find("text/css"), std::string::npos);
}

// The 200 head comes mostly from FileHeads (made once per file); byte for
// byte it is the head write_head formats, for each way a connection goes on.
TEST_F(HttpdResponder, The200HeadByteForByte) {
    const std::string tag = etag_of(answer("GET /a.css HTTP/1.1\r\nHost: h\r\n\r\n"));
    ASSERT_EQ(tag.size(), 18u);
    const std::string common =
        "HTTP/1.1 200 OK\r\nServer: ringlet-httpd\r\nContent-Type: text/css; charset=utf-8\r\nContent-Length: 3\r\nETag: " + tag +
        "\r\n";
    EXPECT_EQ(answer("GET /a.css HTTP/1.1\r\nHost: h\r\n\r\n"), common + "\r\n");
    EXPECT_EQ(answer("GET /a.css HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
              common + "Connection: close\r\n\r\n");
    EXPECT_EQ(answer("GET /a.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
              common + "Connection: keep-alive\r\n\r\n");
    EXPECT_EQ(answer("GET /a.css HTTP/1.0\r\n\r\n"), common + "Connection: close\r\n\r\n");
}

TEST_F(HttpdResponder, IfNoneMatchGives304) {
    const std::string tag = etag_of(answer("GET /a.css HTTP/1.1\r\nHost: h\r\n\r\n"));
    Response r;
    const std::string head = answer("GET /a.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\", " + tag + "\r\n\r\n", &r);
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.file, nullptr);
    EXPECT_EQ(head.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
    EXPECT_EQ(etag_of(head), tag);
    answer("GET /a.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: W/" + tag + "\r\n\r\n", &r);
    EXPECT_EQ(r.status, 304) << "weak comparison";
    answer("GET /a.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: *\r\n\r\n", &r);
    EXPECT_EQ(r.status, 304);
    answer("GET /a.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"0000000000000000\"\r\n\r\n", &r);
    EXPECT_EQ(r.status, 200);
}

TEST_F(HttpdResponder, Errors) {
    Response r;
    std::string head = answer("GET /missing HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 404);
    EXPECT_FALSE(r.close) << "a 404 keeps the connection";
    EXPECT_NE(head.find("\r\n\r\n404 Not Found\n"), std::string::npos);
    EXPECT_NE(head.find("Content-Length: 14\r\n"), std::string::npos);
    head = answer("POST / HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 405);
    EXPECT_NE(head.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
    answer("GET /../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 400) << "traversal: refused, not looked up";
    answer("GET /%2e%2e/x HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 400);
    head = std::string(m_buf, error_response(431, m_buf, sizeof m_buf).head_len);
    EXPECT_EQ(head.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(error_response(400, m_buf, sizeof m_buf).close);
}

TEST_F(HttpdResponder, ConnectionHeaders) {
    Response r;
    std::string head = answer("GET / HTTP/1.0\r\n\r\n", &r);
    EXPECT_TRUE(r.close);
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
    head = answer("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
    EXPECT_FALSE(r.close);
    EXPECT_NE(head.find("Connection: keep-alive\r\n"), std::string::npos);
    answer("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &r);
    EXPECT_TRUE(r.close);
}

TEST_F(HttpdResponder, StatsPage) {
    m_stats.requests = 41;
    m_stats.connections_accepted = 3;
    m_stats.bytes_sent = 12345;
    m_stats.core[0].requests = 41;
    Response r;
    const std::string page = answer("GET /stats HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(page.find("Cache-Control: no-store\r\n"), std::string::npos);
    EXPECT_NE(page.find("\nrequests 41\n"), std::string::npos) << page;
    EXPECT_NE(page.find("\nconnections_accepted 3\n"), std::string::npos);
    EXPECT_NE(page.find("\nbytes_sent 12345\n"), std::string::npos);
    EXPECT_NE(page.find("\ncores 1\ncore 0 requests 41 "), std::string::npos);
    const std::string body = page.substr(page.find("\r\n\r\n") + 4);
    EXPECT_NE(page.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
}

// The libOS's counters are read for a /stats page only, not per request,
// and a failed read shows zeros rather than stale numbers.
int g_dataplane_reads = 0;
bool g_dataplane_ok = true;
bool count_dataplane_read(Stats::Dataplane* out) {
    ++g_dataplane_reads;
    out->copied = 7;
    out->by_reference = 9;
    return g_dataplane_ok;
}

TEST_F(HttpdResponder, DataplaneCountersReadOnlyForStats) {
    m_stats.read_dataplane = count_dataplane_read;
    g_dataplane_reads = 0;
    g_dataplane_ok = true;
    Response r;
    answer("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    answer("GET /nope HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(g_dataplane_reads, 0);
    std::string page = answer("GET /stats HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_EQ(g_dataplane_reads, 1);
    EXPECT_NE(page.find("\ndataplane_payload_bytes_copied 7\ndataplane_tx_by_reference 9\n"), std::string::npos) << page;
    g_dataplane_ok = false;
    page = answer("GET /stats HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    EXPECT_NE(page.find("\ndataplane_payload_bytes_copied 0\ndataplane_tx_by_reference 0\n"), std::string::npos) << page;
}

TEST(HttpdEtag, Matching) {
    EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches(" \"b\" , \"a\"", "\"a\""));
    EXPECT_FALSE(etag_matches("\"ab\"", "\"a\""));
    EXPECT_FALSE(etag_matches("a", "\"a\""));
    EXPECT_FALSE(etag_matches("\"a", "\"a\""));
    EXPECT_FALSE(etag_matches("", "\"a\""));
}

TEST(HttpdWriter, StopsAtTheEnd) {
    char buf[8];
    Writer w(buf, sizeof buf);
    w.put("1234").num(5678);
    EXPECT_FALSE(w.overflowed());
    w.put('x');
    EXPECT_TRUE(w.overflowed());
    EXPECT_EQ(w.size(), 8u);
    char h[16];
    Writer x(h, sizeof h);
    x.hex(0xabc, 4).num(0);
    EXPECT_EQ(std::string(h, x.size()), "0abc0");
}

}  // namespace
}  // namespace httpd
