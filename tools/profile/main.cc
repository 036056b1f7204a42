// ringlet-profile: a flat profile and a per-layer summary of a guest
// instruction trace (QEMU -singlestep -d exec,nochain; scripts/profile.sh
// records one). See --help.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <charconv>
#include <iostream>
#include <set>
#include <string>
#include <string_view>

#include "exec_log.h"
#include "profile.h"
#include "report.h"
#include "symbols.h"

namespace {

using namespace ringlet::profile;

constexpr const char* kUsage = R"(usage: ringlet-profile --log EXEC_LOG [--kernel ELF] [--app ELF] [--requests N]
                       [--top K] [--markdown] [--full-names] [--title TEXT]
                       [--nm PROG] [--readelf PROG] [--marks PC,PC...]
Reads QEMU's `-d exec,nochain` log of a -singlestep run (one Trace line per
instruction; lines QEMU took back are not counted), attributes every retired
instruction to a function of the kernel or app ELF, and prints totals, a
per-layer summary and a flat profile (self instructions and calls per request).
  --log FILE      the exec log ("-" reads stdin)
  --kernel ELF    the kernel with symbols (build/riscv64/arch/riscv64/ringlet.elf)
  --app ELF       the app's ELF (e.g. build/riscv64/user/echo/echo.elf)
  --requests N    requests in the window: the divisor of per-request figures (1)
  --top K         flat-profile rows (25; 0 = all)
  --markdown      Markdown tables instead of aligned text
  --full-names    demangled names with their parameter lists
  --nm, --readelf the binutils that read the riscv64 ELFs
                  (riscv64-linux-gnu-nm, riscv64-linux-gnu-readelf)
  --marks PCS     before the report, one "mark 0xPC INDEX" line each time one of
                  these (hex) pcs retires: INDEX counts retired instructions
                  from 0, so the distance between two marks is exact
Layers come from each function's DWARF compile unit (the file it was compiled
from); code without debug information is classified by name.
)";

// The standard output of `command`, or nothing when it fails.
bool run(const std::string& command, std::string& out) {
    FILE* p = popen(command.c_str(), "r");
    if (!p) return false;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    return pclose(p) == 0;
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

bool load_module(SymbolTable& table, ModuleKind kind, const std::string& elf, const std::string& nm,
                 const std::string& readelf) {
    std::string text;
    if (!run(nm + " -C -n -S --defined-only " + quote(elf) + " 2>/dev/null", text)) {
        std::cerr << "ringlet-profile: " << nm << " failed on " << elf << "\n";
        return false;
    }
    std::vector<NmSymbol> symbols;
    for (size_t pos = 0; pos < text.size();) {
        const size_t nl = std::min(text.find('\n', pos), text.size());
        if (auto s = parse_nm_line(std::string_view(text).substr(pos, nl - pos))) symbols.push_back(std::move(*s));
        pos = nl + 1;
    }
    // Without debug information the layers fall back on names: not fatal.
    std::string aranges, info;
    run(readelf + " --debug-dump=aranges " + quote(elf) + " 2>/dev/null", aranges);
    run(readelf + " --debug-dump=info --dwarf-depth=1 " + quote(elf) + " 2>/dev/null", info);
    table.add_module(kind, symbols, parse_aranges(aranges), parse_cu_names(info));
    return true;
}

// Feeds the profile and notes when a marked pc retires, as the index of the
// instruction in the window (0 = the first): a test compares distances
// between marks with the guest's own rdinstret deltas.
struct MarkingSink {
    Profile& profile;
    const std::set<uint64_t>& marks;
    std::vector<std::pair<uint64_t, uint64_t>> hits;
    uint64_t index;
    void operator()(const Retired& r) {
        if (marks.count(r.pc)) hits.emplace_back(r.pc, index);
        ++index;
        profile.add(r);
    }
};

// "0x10a86,0x116b8" -> the set; false on anything else.
bool parse_marks(std::string_view s, std::set<uint64_t>& out) {
    while (!s.empty()) {
        const size_t comma = s.find(',');
        std::string_view tok = s.substr(0, comma);
        if (tok.starts_with("0x")) tok.remove_prefix(2);
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v, 16);
        if (tok.empty() || ec != std::errc{} || p != tok.data() + tok.size()) return false;
        out.insert(v);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    }
    return true;
}

bool parse_count(const char* s, uint64_t& out) {
    const size_t len = strlen(s);
    auto [p, ec] = std::from_chars(s, s + len, out);
    return len > 0 && ec == std::errc{} && p == s + len;
}

}  // namespace

int main(int argc, char** argv) {
    std::string log_path, kernel, app, nm = "riscv64-linux-gnu-nm", readelf = "riscv64-linux-gnu-readelf";
    ReportOptions opt;
    std::set<uint64_t> marks;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const bool has_value = i + 1 < argc;
        auto value = [&]() { return argv[++i]; };
        uint64_t n = 0;
        if (a == "-h" || a == "--help") {
            std::cout << kUsage;
            return 0;
        } else if (a == "--markdown") {
            opt.markdown = true;
        } else if (a == "--full-names") {
            opt.full_names = true;
        } else if (!has_value) {
            std::cerr << "ringlet-profile: " << a << ": unknown option or missing value\n" << kUsage;
            return 2;
        } else if (a == "--log") {
            log_path = value();
        } else if (a == "--kernel") {
            kernel = value();
        } else if (a == "--app") {
            app = value();
        } else if (a == "--nm") {
            nm = value();
        } else if (a == "--readelf") {
            readelf = value();
        } else if (a == "--title") {
            opt.title = value();
        } else if (a == "--requests" && parse_count(argv[i + 1], n) && n > 0) {
            opt.requests = n;
            ++i;
        } else if (a == "--marks" && parse_marks(argv[i + 1], marks)) {
            ++i;
        } else if (a == "--top" && parse_count(argv[i + 1], n)) {
            opt.top = n;
            ++i;
        } else {
            std::cerr << "ringlet-profile: " << a << " " << argv[i + 1] << ": bad option\n" << kUsage;
            return 2;
        }
    }
    if (log_path.empty()) {
        std::cerr << "ringlet-profile: --log is required\n" << kUsage;
        return 2;
    }

    SymbolTable table;
    if (!kernel.empty() && !load_module(table, ModuleKind::Kernel, kernel, nm, readelf)) return 1;
    if (!app.empty() && !load_module(table, ModuleKind::App, app, nm, readelf)) return 1;
    table.finalize();

    FILE* f = log_path == "-" ? stdin : fopen(log_path.c_str(), "r");
    if (!f) {
        std::cerr << "ringlet-profile: cannot open " << log_path << ": " << strerror(errno) << "\n";
        return 1;
    }
    Profile profile(table);
    MarkingSink sink{profile, marks, {}, 0};
    ExecLogReader<MarkingSink> reader(sink);
    char* line = nullptr;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        std::string_view text(line, static_cast<size_t>(len));
        if (text.ends_with('\n')) text.remove_suffix(1);
        reader.line(text);
    }
    reader.finish();
    free(line);
    if (f != stdin) fclose(f);
    if (profile.total() == 0) {
        std::cerr << "ringlet-profile: no instructions in " << log_path << " (was it recorded with -d exec?)\n";
        return 1;
    }
    for (const auto& [pc, index] : sink.hits) std::cout << "mark 0x" << std::hex << pc << std::dec << ' ' << index << '\n';
    print_report(std::cout, profile, LogCounters{reader.undone(), reader.unmatched_undo()}, opt);
    return 0;
}
