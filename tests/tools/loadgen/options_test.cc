#include "tools/loadgen/options.h"

#include <initializer_list>
#include <vector>

#include <gtest/gtest.h>

namespace ringlet::loadgen {
namespace {

ParseOutcome parse(std::initializer_list<const char*> args) {
    std::vector<const char*> v(args);
    return parse_options(v);
}

// The parse fails and the message mentions `needle` (usually the option).
void expect_error(std::initializer_list<const char*> args, const std::string& needle) {
    const ParseOutcome r = parse(args);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error.find(needle), std::string::npos) << "error was: " << r.error;
}

TEST(Options, DefaultsAreAShortClosedLoopUdpRun) {
    const ParseOutcome r = parse({});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.options.proto, Proto::Udp);
    EXPECT_EQ(r.options.host, "127.0.0.1");
    EXPECT_EQ(r.options.port, 5555);
    EXPECT_EQ(r.options.clients, 1u);
    EXPECT_TRUE(r.options.closed_loop());
    EXPECT_EQ(r.options.duration_s, 10.0);
    EXPECT_EQ(r.options.requests, 0u);
    EXPECT_EQ(r.options.sizes.list, std::vector<uint32_t>{64});
}

TEST(Options, ParsesEveryOption) {
    const ParseOutcome r = parse({"--proto", "tcp", "--host", "10.0.2.15", "--port=6000", "--clients", "8",
                                  "--rate", "2500.5", "--arrival", "fixed", "--sizes", "64,1024,64",
                                  "--requests", "1000", "--timeout-ms", "250", "--connect-timeout-ms", "3000",
                                  "--threads", "2", "--seed", "9", "--max-timeouts", "3",
                                  "--json", "--no-progress", "--allow-timeouts"});
    ASSERT_TRUE(r.ok()) << r.error;
    const Options& o = r.options;
    EXPECT_EQ(o.proto, Proto::Tcp);
    EXPECT_EQ(o.host, "10.0.2.15");
    EXPECT_EQ(o.port, 6000);
    EXPECT_EQ(o.clients, 8u);
    EXPECT_DOUBLE_EQ(o.rate, 2500.5);
    EXPECT_FALSE(o.closed_loop());
    EXPECT_EQ(o.arrival, Arrival::Fixed);
    EXPECT_EQ(o.sizes.list, (std::vector<uint32_t>{64, 1024, 64}));
    EXPECT_EQ(o.requests, 1000u);
    EXPECT_EQ(o.duration_s, 0.0);  // --requests alone: no time bound
    EXPECT_EQ(o.timeout_ms, 250u);
    EXPECT_EQ(o.connect_timeout_ms, 3000u);
    EXPECT_EQ(o.threads, 2u);
    EXPECT_EQ(o.seed, 9u);
    EXPECT_TRUE(o.json);
    EXPECT_FALSE(o.progress);
    EXPECT_EQ(o.max_timeouts, UINT64_MAX);  // --allow-timeouts, given after --max-timeouts, wins
}

TEST(Options, MaxTimeoutsDefaultsToNoneAndTakesANumber) {
    const ParseOutcome none = parse({"--requests", "10"});
    ASSERT_TRUE(none.ok()) << none.error;
    EXPECT_EQ(none.options.max_timeouts, 0u);
    const ParseOutcome two = parse({"--requests", "10", "--max-timeouts", "2"});
    ASSERT_TRUE(two.ok()) << two.error;
    EXPECT_EQ(two.options.max_timeouts, 2u);
    EXPECT_FALSE(parse({"--requests", "10", "--max-timeouts", "-1"}).ok());
}

TEST(Options, SizeRangeAndSingleSize) {
    ParseOutcome r = parse({"--sizes", "16-9000", "--proto", "tcp"});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.options.sizes.is_range);
    EXPECT_EQ(r.options.sizes.smallest(), 16u);
    EXPECT_EQ(r.options.sizes.largest(), 9000u);
    r = parse({"--sizes", "16-9000", "--size", "100"});  // the last one wins
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_FALSE(r.options.sizes.is_range);
    EXPECT_EQ(r.options.sizes.list, std::vector<uint32_t>{100});
}

TEST(Options, DurationAndRequestsTogether) {
    const ParseOutcome r = parse({"--duration", "2.5", "--requests", "10"});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.options.duration_s, 2.5);
    EXPECT_EQ(r.options.requests, 10u);
}

TEST(Options, HelpSkipsValidation) {
    const ParseOutcome r = parse({"--help"});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.options.help);
    EXPECT_NE(usage_text().find("--rate"), std::string::npos);
}

TEST(Options, RejectsUnknownAndMalformed) {
    expect_error({"--bogus"}, "unknown option '--bogus'");
    expect_error({"-c", "4"}, "unknown option '-c'");
    expect_error({"--clients"}, "--clients: missing value");
    expect_error({"--proto", "sctp"}, "--proto: expected udp or tcp, got 'sctp'");
    expect_error({"--arrival", "bursty"}, "--arrival");
    expect_error({"--json=yes"}, "--json: takes no value");
    expect_error({"--host", ""}, "--host");
}

TEST(Options, RejectsBadNumbers) {
    expect_error({"--clients", "0"}, "--clients: expected an integer in 1..");
    expect_error({"--clients", "abc"}, "got 'abc'");
    expect_error({"--clients", "4x"}, "got '4x'");
    expect_error({"--clients", "-1"}, "--clients");
    expect_error({"--port", "0"}, "--port");
    expect_error({"--port", "65536"}, "--port: expected a port in 1..65535");
    expect_error({"--rate", "0"}, "--rate: expected a positive number");
    expect_error({"--rate", "-5"}, "--rate");
    expect_error({"--rate", "nan"}, "--rate");
    expect_error({"--rate", "inf"}, "--rate");
    expect_error({"--duration", "0"}, "--duration");
    expect_error({"--requests", "0"}, "--requests");
    expect_error({"--timeout-ms", "0"}, "--timeout-ms");
    expect_error({"--connect-timeout-ms", "x"}, "--connect-timeout-ms");
    expect_error({"--threads", "0"}, "--threads");
    expect_error({"--requests", "99999999999999999999999"}, "--requests");
}

TEST(Options, RejectsBadSizes) {
    expect_error({"--size", "8"}, "--size: 8 is below the 16-byte header");
    expect_error({"--size", "65508"}, "exceeds the UDP limit of 65507");
    EXPECT_TRUE(parse({"--proto", "tcp", "--size", "65508"}).ok());
    expect_error({"--proto", "tcp", "--size", "999999999"}, "exceeds the TCP limit");
    expect_error({"--sizes", "64,,128"}, "--sizes: expected N, N,N,... or LO-HI");
    expect_error({"--sizes", "64,"}, "--sizes");
    expect_error({"--sizes", "900-100"}, "--sizes");
    expect_error({"--sizes", "10-100"}, "below the 16-byte header");
    expect_error({"--sizes", "-100"}, "--sizes");
}

TEST(Options, RejectsMoreThreadsThanClients) {
    expect_error({"--threads", "4", "--clients", "2"}, "--threads (4) exceeds --clients (2)");
}

}  // namespace
}  // namespace ringlet::loadgen
