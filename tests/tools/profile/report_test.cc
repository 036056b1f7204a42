#include "report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ringlet::profile {
namespace {

TEST(Group, ThousandsAndDecimals) {
    EXPECT_EQ(group(uint64_t{0}), "0");
    EXPECT_EQ(group(uint64_t{999}), "999");
    EXPECT_EQ(group(uint64_t{1000}), "1,000");
    EXPECT_EQ(group(uint64_t{14183123}), "14,183,123");
    EXPECT_EQ(group(14183.25, 1), "14,183.3");
    EXPECT_EQ(group(0.05, 2), "0.05");
    EXPECT_EQ(group(7.5, 2), "7.50");
}

TEST(Table, TextIsAlignedMarkdownIsPiped) {
    Table t({"name", "n"}, {false, true});
    t.row({"a", "1"});
    t.row({"longer|name", "1,000"});
    std::ostringstream text, md;
    t.print(text, false);
    t.print(md, true);
    EXPECT_EQ(text.str(), "name             n\na                1\nlonger|name  1,000\n");
    EXPECT_EQ(md.str(), "| name | n |\n| --- | ---: |\n| a | 1 |\n| longer\\|name | 1,000 |\n");
}

class ReportTest : public ::testing::Test {
protected:
    static SymbolTable make_table() {
        SymbolTable t;
        t.add_module(ModuleKind::App, {NmSymbol{0x1000, 0x20, 'T', "memcpy"}, NmSymbol{0x1020, 0x20, 'T', "f"},
                                       NmSymbol{0x1040, 0x20, 'T', "g"}});
        t.finalize();
        return t;
    }
    ReportTest() {
        // Two requests: memcpy 6 instructions in 2 calls, f 3, g 1.
        for (int r = 0; r < 2; ++r) {
            for (uint64_t pc : {0x1020, 0x1000, 0x1002, 0x1004, 0x1022, 0x1040})
                profile.add(Retired{pc, Mode::User});
        }
    }
    SymbolTable table = make_table();
    Profile profile{table};
};

TEST_F(ReportTest, PerRequestFiguresAndTotals) {
    std::ostringstream out;
    ReportOptions opt;
    opt.requests = 2;
    print_report(out, profile, LogCounters{5, 0}, opt);
    const std::string s = out.str();
    EXPECT_NE(s.find("instructions retired in the window: 12 over 2 requests = 6.0 per request"), std::string::npos);
    EXPECT_NE(s.find("trace lines taken back (not retired): 5"), std::string::npos);
    // memcpy: 3 instructions and 1 call per request, half the total.
    EXPECT_NE(s.find("    3.0   50.0   50.0       1.00             6  libc     memcpy"), std::string::npos) << s;
    EXPECT_NE(s.find("all 3 functions"), std::string::npos);
}

TEST_F(ReportTest, TopKeepsTheSumInAnOtherRow) {
    std::ostringstream out;
    ReportOptions opt;
    opt.requests = 2;
    opt.top = 1;
    opt.markdown = true;
    print_report(out, profile, LogCounters{}, opt);
    const std::string s = out.str();
    EXPECT_NE(s.find("top 1 of 3 functions"), std::string::npos);
    EXPECT_NE(s.find("| 3.0 | 50.0 | 100.0 |  | 6 |  | (2 other functions) |"), std::string::npos) << s;
    EXPECT_NE(s.find("| 6.0 | 100.0 |  |  | 12 |  | total |"), std::string::npos) << s;
    EXPECT_NE(s.find("| libc | 3.0 | 50.0 | 6 |"), std::string::npos) << s;
}

}  // namespace
}  // namespace ringlet::profile
