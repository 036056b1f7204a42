#include "kernel/lib/symbol_table.h"

#include <gtest/gtest.h>

namespace ringlet {
namespace {

const uint64_t kAddrs[] = {0x1000, 0x1040, 0x2000};
const uint32_t kOffsets[] = {0, 6, 11};
const char kNames[] = "alpha\0beta\0gamma";

TEST(SymbolTableTest, FindsContainingSymbol) {
    SymbolTable table(kAddrs, kOffsets, kNames, 3);
    auto hit = table.lookup(0x1000);
    ASSERT_TRUE(hit);
    EXPECT_STREQ(hit->name, "alpha");
    EXPECT_EQ(hit->offset, 0u);
    hit = table.lookup(0x103f);
    ASSERT_TRUE(hit);
    EXPECT_STREQ(hit->name, "alpha");
    EXPECT_EQ(hit->offset, 0x3fu);
    hit = table.lookup(0x1040);
    ASSERT_TRUE(hit);
    EXPECT_STREQ(hit->name, "beta");
    hit = table.lookup(0x9999);
    ASSERT_TRUE(hit);
    EXPECT_STREQ(hit->name, "gamma");
    EXPECT_EQ(hit->offset, 0x7999u);
}

TEST(SymbolTableTest, BelowFirstOrEmptyIsNotFound) {
    SymbolTable table(kAddrs, kOffsets, kNames, 3);
    EXPECT_EQ(table.lookup(0xfff).error(), Error::NotFound);
    SymbolTable empty(kAddrs, kOffsets, kNames, 0);
    EXPECT_EQ(empty.lookup(0x1000).error(), Error::NotFound);
}

}  // namespace
}  // namespace ringlet
