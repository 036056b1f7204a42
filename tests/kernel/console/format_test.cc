#include "kernel/console/format.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>

namespace ringlet {
namespace {

template <typename... Args>
std::string fmt(const char* f, Args... args) {
    char buf[256];
    size_t n = format(buf, sizeof buf, f, args...);
    EXPECT_EQ(n, std::string(buf).size());
    return buf;
}

TEST(FormatTest, Integers) {
    EXPECT_EQ(fmt("%d %i %u", -42, 7, 42u), "-42 7 42");
    EXPECT_EQ(fmt("%d", INT_MIN), "-2147483648");
    EXPECT_EQ(fmt("%ld", static_cast<long>(INT64_MIN)), "-9223372036854775808");
    EXPECT_EQ(fmt("%lu", static_cast<unsigned long>(UINT64_MAX)), "18446744073709551615");
    EXPECT_EQ(fmt("%llx", 0xdeadbeefcafeULL), "deadbeefcafe");
    EXPECT_EQ(fmt("%X", 0xabcu), "ABC");
    EXPECT_EQ(fmt("%zu", static_cast<size_t>(12345)), "12345");
    EXPECT_EQ(fmt("%hhu %hd", 0x1ff, 0x18000), "255 -32768");
}

TEST(FormatTest, WidthsAndFlags) {
    EXPECT_EQ(fmt("[%5d]", 42), "[   42]");
    EXPECT_EQ(fmt("[%-5d]", 42), "[42   ]");
    EXPECT_EQ(fmt("[%05d]", -42), "[-0042]");
    EXPECT_EQ(fmt("[%016lx]", 0x1234ul), "[0000000000001234]");
    EXPECT_EQ(fmt("[%*d]", 4, 7), "[   7]");
    EXPECT_EQ(fmt("[%-*d]", 3, 7), "[7  ]");
    EXPECT_EQ(fmt("[%-4s|%4s]", "ab", "cd"), "[ab  |  cd]");
    EXPECT_EQ(fmt("[%3c]", 'x'), "[  x]");
}

TEST(FormatTest, PointersStringsPercent) {
    EXPECT_EQ(fmt("%p", reinterpret_cast<void*>(0xffffffffc0200000ull)), "0xffffffffc0200000");
    EXPECT_EQ(fmt("%p", nullptr), "0x0000000000000000");
    EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
    EXPECT_EQ(fmt("100%%"), "100%");
    EXPECT_EQ(fmt("%c%c", 'o', 'k'), "ok");
}

TEST(FormatTest, StringPrecisionBoundsTheRead) {
    const char unterminated[3] = {'a', 'b', 'c'};
    EXPECT_EQ(fmt("[%.*s]", 3, unterminated), "[abc]");
    EXPECT_EQ(fmt("[%.2s]", "hello"), "[he]");
    EXPECT_EQ(fmt("[%5.2s]", "hello"), "[   he]");
    EXPECT_EQ(fmt("[%.*s]", 10, "hi"), "[hi]");
    EXPECT_EQ(fmt("[%.0s]", "hi"), "[]");
}

TEST(FormatTest, UnknownConversionIsCopied) {
    EXPECT_EQ(fmt("a %q b"), "a %q b");
    EXPECT_EQ(fmt("trailing %"), "trailing %");
}

TEST(FormatTest, TruncatesAndReportsFullLength) {
    char buf[8];
    size_t n = format(buf, sizeof buf, "%s-%d", "abcdef", 12345);
    EXPECT_EQ(n, 12u);
    EXPECT_STREQ(buf, "abcdef-");
    char one[1] = {'x'};
    EXPECT_EQ(format(one, 1, "hello"), 5u);
    EXPECT_EQ(one[0], '\0');
    EXPECT_EQ(format(nullptr, 0, "%d", 123), 3u);
}

}  // namespace
}  // namespace ringlet
