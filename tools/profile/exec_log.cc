// Line parsing for the exec log (exec_log.h).
#include "exec_log.h"

#include <charconv>

namespace ringlet::profile {
namespace {

// Parses hex digits at the start of `s` (an optional 0x first).
bool hex_prefix(std::string_view s, uint64_t& out, size_t* used = nullptr) {
    size_t skip = s.starts_with("0x") ? 2 : 0;
    auto [p, ec] = std::from_chars(s.data() + skip, s.data() + s.size(), out, 16);
    if (ec != std::errc{} || p == s.data() + skip) return false;
    if (used) *used = static_cast<size_t>(p - s.data());
    return true;
}

Mode mode_of(uint64_t tb_flags) {
    switch (tb_flags & 7) {
        case 0: return Mode::User;
        case 3: return Mode::Machine;
        default: return Mode::Supervisor;
    }
}

}  // namespace

ParsedLine parse_exec_line(std::string_view line) {
    ParsedLine out;
    if (line.starts_with("Trace ")) {
        // "[cs_base/pc/flags/cflags]"
        const size_t open = line.find('[');
        if (open == std::string_view::npos) return out;
        std::string_view f = line.substr(open + 1);
        const size_t s1 = f.find('/');
        if (s1 == std::string_view::npos) return out;
        f.remove_prefix(s1 + 1);
        size_t used = 0;
        uint64_t pc = 0, flags = 0;
        if (!hex_prefix(f, pc, &used) || used >= f.size() || f[used] != '/') return out;
        f.remove_prefix(used + 1);
        if (!hex_prefix(f, flags)) return out;
        out.kind = LineKind::Trace;
        out.insn = Retired{pc, mode_of(flags)};
        return out;
    }
    constexpr std::string_view kRewound = "cpu_io_recompile: rewound execution of TB to ";
    if (line.starts_with(kRewound)) {
        uint64_t pc = 0;
        if (hex_prefix(line.substr(kRewound.size()), pc)) out = ParsedLine{LineKind::Undo, Retired{pc, Mode::User}};
        return out;
    }
    if (line.starts_with("Stopped execution of TB chain before ")) {
        const size_t open = line.find('[');
        uint64_t pc = 0;
        if (open != std::string_view::npos && hex_prefix(line.substr(open + 1), pc))
            out = ParsedLine{LineKind::Undo, Retired{pc, Mode::User}};
        return out;
    }
    return out;
}

}  // namespace ringlet::profile
