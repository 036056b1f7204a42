// Request targets to paths: what is served, and every traversal trick refused.
#include "user/httpd/target.h"

#include <gtest/gtest.h>

#include <string>

namespace httpd {
namespace {

// The resolved path, or "REFUSED".
std::string resolve(const std::string& target) {
    char out[kMaxPath + 16];
    const TargetResult r = resolve_target(Str(target.data(), target.size()), out, sizeof out);
    return r.ok ? std::string(out, r.len) : "REFUSED";
}

TEST(HttpdTarget, OriginForm) {
    EXPECT_EQ(resolve("/"), "/index.html");
    EXPECT_EQ(resolve("/style.css"), "/style.css");
    EXPECT_EQ(resolve("/a/b/"), "/a/b/index.html");
    EXPECT_EQ(resolve("/a/b.txt?x=1&y=/../z"), "/a/b.txt") << "the query is not part of the path";
    EXPECT_EQ(resolve("/hello%20world.txt"), "/hello world.txt");
    EXPECT_EQ(resolve("/a.b..c"), "/a.b..c") << "dots inside a name are fine";
    EXPECT_EQ(resolve("/..."), "/...");
}

TEST(HttpdTarget, AbsoluteForm) {
    EXPECT_EQ(resolve("http://example.com/x.html"), "/x.html");
    EXPECT_EQ(resolve("HTTP://example.com:8080/"), "/index.html");
    EXPECT_EQ(resolve("http://example.com"), "REFUSED");
    EXPECT_EQ(resolve("http:///etc/passwd"), "REFUSED");
    EXPECT_EQ(resolve("http://h/../etc/passwd"), "REFUSED");
}

TEST(HttpdTarget, OtherFormsRefused) {
    for (const char* t : {"*", "example.com:443", "index.html", "", "https:/x", "file:///etc/passwd"}) {
        EXPECT_EQ(resolve(t), "REFUSED") << t;
    }
}

TEST(HttpdTarget, TraversalRefused) {
    for (const char* t : {"/..", "/../etc/passwd", "/a/../../b", "/a/..", "/./a", "/a/./b", "/%2e%2e/etc/passwd",
                          "/%2E%2E/x", "/.%2e/x", "/a/%2e/b", "/..%2fetc%2fpasswd", "/a%2fb", "/a%5c..%5cb",
                          "/a\\..\\b", "//etc/passwd", "/a//b", "/%00", "/a%0a", "/%", "/%4", "/%zz", "/%2",
                          "/a#frag"}) {
        EXPECT_EQ(resolve(t), "REFUSED") << t;
    }
}

TEST(HttpdTarget, TooLongForTheBufferRefused) {
    char out[16];
    const std::string t = "/" + std::string(40, 'a');
    EXPECT_FALSE(resolve_target(Str(t.data(), t.size()), out, sizeof out).ok);
    EXPECT_FALSE(resolve_target(Str("/abcdef/"), out, 12).ok) << "no room for index.html";
}

}  // namespace
}  // namespace httpd
