// Integer parsing and formatting as Redis does them.
#include "user/kv/bytes.h"

#include <gtest/gtest.h>

namespace kv {
namespace {

TEST(KvBytes, ParseI64AcceptsWhatRedisAccepts) {
    int64_t v = 0;
    EXPECT_TRUE(parse_i64("0", &v));
    EXPECT_EQ(v, 0);
    EXPECT_TRUE(parse_i64("-42", &v));
    EXPECT_EQ(v, -42);
    EXPECT_TRUE(parse_i64("9223372036854775807", &v));
    EXPECT_EQ(v, INT64_MAX);
    EXPECT_TRUE(parse_i64("-9223372036854775808", &v));
    EXPECT_EQ(v, INT64_MIN);
}

TEST(KvBytes, ParseI64RefusesTheRest) {
    int64_t v = 0;
    for (const char* s : {"", "-", "+1", " 1", "1 ", "01", "-0", "1a", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999", "1.5"}) {
        EXPECT_FALSE(parse_i64(s, &v)) << s;
    }
}

TEST(KvBytes, FormatRoundTrips) {
    char buf[24];
    for (int64_t v : {int64_t{0}, int64_t{7}, int64_t{-7}, INT64_MAX, INT64_MIN}) {
        const size_t n = format_i64(v, buf);
        int64_t back = 1;
        ASSERT_TRUE(parse_i64(Slice(reinterpret_cast<uint8_t*>(buf), n), &back));
        EXPECT_EQ(back, v);
    }
}

TEST(KvBytes, EqualsWordIgnoresAsciiCase) {
    EXPECT_TRUE(Slice("GeT").equals_word("get"));
    EXPECT_FALSE(Slice("gets").equals_word("get"));
    EXPECT_FALSE(Slice("ge").equals_word("get"));
}

}  // namespace
}  // namespace kv
