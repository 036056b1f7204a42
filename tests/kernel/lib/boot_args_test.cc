#include "kernel/lib/boot_args.h"

#include <gtest/gtest.h>

#include <string>

namespace ringlet {
namespace {

std::string value(const BootArgs& args, const char* key) {
    size_t n = 99;
    const char* v = args.value(key, &n);
    if (!v) {
        EXPECT_EQ(n, 0u);
        return "<none>";
    }
    return std::string(v, n);
}

TEST(BootArgsTest, Flags) {
    BootArgs args("  shutdown\tpanic_test  ");
    EXPECT_TRUE(args.has("shutdown"));
    EXPECT_TRUE(args.has("panic_test"));
    EXPECT_FALSE(args.has("shut"));
    EXPECT_FALSE(args.has("shutdownx"));
    EXPECT_FALSE(args.has("panic"));
}

TEST(BootArgsTest, KeyValues) {
    BootArgs args("init=hello ip=10.0.2.15/24 debug x= =y");
    EXPECT_EQ(value(args, "init"), "hello");
    EXPECT_EQ(value(args, "ip"), "10.0.2.15/24");
    EXPECT_EQ(value(args, "x"), "");
    EXPECT_EQ(value(args, "in"), "<none>");
    EXPECT_EQ(value(args, "debug"), "<none>");
    EXPECT_FALSE(args.has("init"));  // a key=value word is not a flag
}

TEST(BootArgsTest, EmptyAndNull) {
    EXPECT_FALSE(BootArgs("").has("shutdown"));
    EXPECT_FALSE(BootArgs(nullptr).has("shutdown"));
    EXPECT_EQ(value(BootArgs(nullptr), "init"), "<none>");
}

}  // namespace
}  // namespace ringlet
