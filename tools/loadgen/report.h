// Report: turns counters and the latency histogram into the final summary
// (text or JSON), the verdict, and the once-a-second progress line.
#pragma once

#include <string>
#include <vector>

#include "tools/loadgen/histogram.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/stats.h"

namespace ringlet::loadgen {

struct Summary {
    Totals totals;
    Histogram latency;        // ns, of requests whose echo matched
    double elapsed_s = 0;     // from start until the last matched echo
    std::vector<std::string> error_messages;  // first distinct ones, for humans
};

// Whether the run counts as clean: at least one echo, no errors, no mismatched
// byte, and no timeout unless --allow-timeouts.
bool run_passed(const Options& options, const Totals& totals);

// The human-readable summary, several lines ending in a newline.
std::string format_text(const Options& options, const Summary& summary);

// The summary as one JSON object followed by a newline; latencies in µs.
std::string format_json(const Options& options, const Summary& summary);

// One progress line (no newline) for second `t_s` of the run, given the totals
// now and `dt_s` seconds earlier.
std::string format_progress(double t_s, const Totals& now, const Totals& before, double dt_s);

// `s` as a JSON string literal, quotes included.
std::string json_quote(const std::string& s);

}  // namespace ringlet::loadgen
