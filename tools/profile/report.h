// Report: the profile as aligned text tables or Markdown tables.
#pragma once

#include <stdint.h>

#include <ostream>
#include <string>
#include <vector>

#include "profile.h"

namespace ringlet::profile {

struct ReportOptions {
    uint64_t requests = 1;  // the divisor for "per request" columns
    size_t top = 25;        // flat-profile rows; 0 = every function that ran
    bool markdown = false;
    bool full_names = false;  // demangled names as they are, parameters and all
    std::string title;        // a line above the tables, e.g. the workload
};

// Counters of the log reading, printed under the totals.
struct LogCounters {
    uint64_t undone = 0;  // trace lines taken back (see exec_log.h)
    uint64_t unmatched_undo = 0;
};

// A table of strings; numbers right-aligned, text left-aligned.
class Table {
public:
    Table(std::vector<std::string> headers, std::vector<bool> right_aligned);
    void row(std::vector<std::string> cells);
    void print(std::ostream& out, bool markdown) const;

private:
    std::vector<std::string> m_headers;
    std::vector<bool> m_right;
    std::vector<std::vector<std::string>> m_rows;
};

// "1234567" -> "1,234,567"; with decimals, "1,234.5".
std::string group(uint64_t v);
std::string group(double v, int decimals);

void print_report(std::ostream& out, const Profile& profile, const LogCounters& log, const ReportOptions& opt);

}  // namespace ringlet::profile
