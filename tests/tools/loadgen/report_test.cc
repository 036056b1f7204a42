#include "tools/loadgen/report.h"

#include <gtest/gtest.h>

namespace ringlet::loadgen {
namespace {

Totals clean() {
    Totals t;
    t.sent = t.completed = 10;
    return t;
}

TEST(Report, PassesOnlyWhenEveryEchoMatched) {
    Options o;
    EXPECT_TRUE(run_passed(o, clean()));
    Totals t = clean();
    t.completed = 0;
    EXPECT_FALSE(run_passed(o, t));  // nothing answered is not a pass
    t = clean();
    t.errors = 1;
    EXPECT_FALSE(run_passed(o, t));
    t = clean();
    t.failed = 1;  // lost with a broken connection
    EXPECT_FALSE(run_passed(o, t));
    t = clean();
    t.mismatched_bytes = 1;
    t.mismatched_responses = 1;
    EXPECT_FALSE(run_passed(o, t));
    t = clean();
    t.timeouts = 1;
    EXPECT_FALSE(run_passed(o, t));
    o.max_timeouts = 1;
    EXPECT_TRUE(run_passed(o, t));
    t.timeouts = 2;
    EXPECT_FALSE(run_passed(o, t));
    o.max_timeouts = UINT64_MAX;  // --allow-timeouts
    EXPECT_TRUE(run_passed(o, t));
}

TEST(Report, JsonQuoteEscapes) {
    EXPECT_EQ(json_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

TEST(Report, JsonHasTheFieldsScriptsRead) {
    Options o;
    Summary s;
    s.totals = clean();
    s.totals.mismatched_bytes = 3;
    s.elapsed_s = 2;
    for (uint64_t v = 1000; v <= 100000; v += 1000) s.latency.record(v);
    s.error_messages = {"connect: \"refused\""};
    const std::string j = format_json(o, s);
    for (const char* key : {"\"requests_per_s\":5.000", "\"completed\":10", "\"mismatched_bytes\":3",
                            "\"p50\":", "\"p99\":", "\"p99.9\":", "\"timeouts\":0", "\"errors\":0",
                            "\"passed\":false", "connect: \\\"refused\\\""})
        EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
    EXPECT_EQ(j.back(), '\n');
}

TEST(Report, TextSaysPassOrFail) {
    Options o;
    Summary s;
    s.totals = clean();
    EXPECT_NE(format_text(o, s).find("result      PASS"), std::string::npos);
    s.totals.errors = 1;
    s.error_messages = {"udp recv: Connection refused"};
    const std::string t = format_text(o, s);
    EXPECT_NE(t.find("result      FAIL"), std::string::npos);
    EXPECT_NE(t.find("udp recv: Connection refused"), std::string::npos);
}

TEST(Report, ProgressIsPerInterval) {
    Totals before, now;
    before.completed = 100;
    before.latency_sum_ns = 100000;
    now.completed = 300;
    now.latency_sum_ns = 100000 + 200 * 5000;  // 5 us each in this interval
    const std::string line = format_progress(2.0, now, before, 2.0);
    EXPECT_NE(line.find("100 req/s"), std::string::npos) << line;
    EXPECT_NE(line.find("5.0 us"), std::string::npos) << line;
}

}  // namespace
}  // namespace ringlet::loadgen
