// KEYS/SCAN glob patterns.
#include "user/kv/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace kv {
namespace {

bool m(const char* p, const char* s) { return glob_match(Slice(p), Slice(s)); }

TEST(KvGlob, Wildcards) {
    EXPECT_TRUE(m("*", ""));
    EXPECT_TRUE(m("*", "anything"));
    EXPECT_TRUE(m("user:*", "user:42"));
    EXPECT_FALSE(m("user:*", "usr:42"));
    EXPECT_TRUE(m("h?llo", "hello"));
    EXPECT_FALSE(m("h?llo", "hllo"));
    EXPECT_TRUE(m("*a*b*", "xxaxxbxx"));
    EXPECT_FALSE(m("*a*b", "xxbxxa"));
}

TEST(KvGlob, Sets) {
    EXPECT_TRUE(m("h[ae]llo", "hallo"));
    EXPECT_FALSE(m("h[ae]llo", "hillo"));
    EXPECT_TRUE(m("h[^e]llo", "hallo"));
    EXPECT_FALSE(m("h[^e]llo", "hello"));
    EXPECT_TRUE(m("k[a-c]", "kb"));
    EXPECT_TRUE(m("k[c-a]", "kb"));  // a reversed range works as Redis's does
    EXPECT_FALSE(m("k[a-c]", "kd"));
}

TEST(KvGlob, Escapes) {
    EXPECT_TRUE(m("a\\*b", "a*b"));
    EXPECT_FALSE(m("a\\*b", "axb"));
    EXPECT_TRUE(m("[\\]]", "]"));
}

TEST(KvGlob, HostilePatternsStayLinearish) {
    const std::string subject(5000, 'a');
    std::string pattern;
    for (int i = 0; i < 50; ++i) pattern += "*a";
    pattern += "b";
    EXPECT_FALSE(glob_match(Slice(pattern.c_str()), Slice(subject.c_str())));  // returns, no blow-up
}

}  // namespace
}  // namespace kv
