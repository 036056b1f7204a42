// Parsing of nm/readelf text and the address -> symbol table (symbols.h).
#include "symbols.h"

#include <algorithm>
#include <charconv>

namespace ringlet::profile {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// Splits off the next space-separated token of `s`.
std::string_view next_token(std::string_view& s) {
    s = trim(s);
    const size_t end = s.find_first_of(" \t");
    std::string_view tok = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
    return tok;
}

bool parse_hex(std::string_view s, uint64_t& out) {
    if (s.starts_with("0x")) s.remove_prefix(2);
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return ec == std::errc{} && p == s.data() + s.size();
}

bool is_text_type(char t) { return t == 'T' || t == 't' || t == 'W' || t == 'w'; }

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

}  // namespace

std::optional<NmSymbol> parse_nm_line(std::string_view line) {
    std::string_view rest = line;
    NmSymbol sym;
    if (!parse_hex(next_token(rest), sym.addr)) return std::nullopt;
    std::string_view tok = next_token(rest);
    // With -S, a sized symbol has a size column before its one-letter type.
    if (tok.size() > 1) {
        if (!parse_hex(tok, sym.size)) return std::nullopt;
        tok = next_token(rest);
    }
    if (tok.size() != 1) return std::nullopt;
    sym.type = tok[0];
    // The name is the rest of the line (demangled names contain spaces); nm
    // -l would append a tab and file:line, which is not part of it.
    std::string_view name = trim(rest);
    name = name.substr(0, name.find('\t'));
    if (!is_text_type(sym.type) || name.empty() || name.starts_with(".L") || name.starts_with('$'))
        return std::nullopt;
    sym.name = std::string(name);
    return sym;
}

std::vector<CuRange> parse_aranges(std::string_view text) {
    std::vector<CuRange> out;
    uint64_t cu = 0;
    bool in_table = false;
    for (std::string_view line : lines_of(text)) {
        const std::string_view t = trim(line);
        if (t.starts_with("Offset into .debug_info:")) {
            in_table = parse_hex(trim(t.substr(t.find(':') + 1)), cu);
            continue;
        }
        if (!in_table) continue;
        std::string_view rest = t;
        uint64_t lo = 0, len = 0;
        if (!parse_hex(next_token(rest), lo) || !parse_hex(next_token(rest), len)) continue;
        if (len != 0) out.push_back(CuRange{lo, len, cu});
    }
    return out;
}

std::map<uint64_t, std::string> parse_cu_names(std::string_view text) {
    std::map<uint64_t, std::string> out;
    constexpr std::string_view kUnit = "Compilation Unit @ offset ";
    std::optional<uint64_t> unit;  // the unit whose top DIE we are reading
    for (std::string_view line : lines_of(text)) {
        const std::string_view t = trim(line);
        if (t.starts_with(kUnit)) {
            std::string_view off = t.substr(kUnit.size());
            if (off.ends_with(':')) off.remove_suffix(1);
            uint64_t v = 0;
            unit = parse_hex(off, v) ? std::optional<uint64_t>(v) : std::nullopt;
            continue;
        }
        // Only the unit's own DIE (depth 0) names the compiled file.
        if (t.starts_with("<1>")) unit.reset();
        if (!unit || !t.starts_with('<')) continue;
        const size_t at = t.find("DW_AT_name");
        if (at == std::string_view::npos) continue;
        std::string_view value = t.substr(t.find(':', at) + 1);
        // "(indirect line string, offset: 0x224): /path" or a direct "/path".
        if (const size_t p = value.find("): "); value.starts_with(" (") && p != std::string_view::npos)
            value = value.substr(p + 3);
        out[*unit] = std::string(trim(value));
        unit.reset();
    }
    return out;
}

void SymbolTable::add_module(ModuleKind kind, const std::vector<NmSymbol>& symbols,
                             const std::vector<CuRange>& cu_ranges,
                             const std::map<uint64_t, std::string>& cu_names) {
    std::vector<CuRange> ranges = cu_ranges;
    std::sort(ranges.begin(), ranges.end(), [](const CuRange& a, const CuRange& b) { return a.lo < b.lo; });
    for (const NmSymbol& s : symbols) {
        std::string file;
        // The last range starting at or below the symbol, if it holds it.
        auto it = std::upper_bound(ranges.begin(), ranges.end(), s.addr,
                                   [](uint64_t a, const CuRange& r) { return a < r.lo; });
        if (it != ranges.begin()) {
            --it;
            if (s.addr < it->lo + it->len) {
                if (auto n = cu_names.find(it->cu_offset); n != cu_names.end()) file = n->second;
            }
        }
        m_pending.push_back(Pending{s, kind, std::move(file)});
    }
}

void SymbolTable::finalize() {
    auto better = [](const Pending& a, const Pending& b) {  // a preferred over b at one address
        if ((a.sym.size != 0) != (b.sym.size != 0)) return a.sym.size != 0;
        const bool ga = a.sym.type == 'T' || a.sym.type == 'W';
        const bool gb = b.sym.type == 'T' || b.sym.type == 'W';
        if (ga != gb) return ga;
        return a.sym.name < b.sym.name;
    };
    std::sort(m_pending.begin(), m_pending.end(), [&](const Pending& a, const Pending& b) {
        if (a.sym.addr != b.sym.addr) return a.sym.addr < b.sym.addr;
        return better(a, b);
    });
    // Where each module's code ends: the end of its last sized symbol.
    uint64_t module_end[2] = {0, 0};
    for (const Pending& p : m_pending) {
        uint64_t& e = module_end[static_cast<int>(p.kind)];
        e = std::max(e, p.sym.addr + std::max<uint64_t>(p.sym.size, 1));
    }
    m_symbols.clear();
    for (size_t i = 0; i < m_pending.size(); ++i) {
        const Pending& p = m_pending[i];
        if (i > 0 && m_pending[i - 1].sym.addr == p.sym.addr) continue;  // an alias
        Symbol s{p.sym.addr, p.sym.addr + p.sym.size, p.sym.name, p.file, p.kind, true};
        if (p.sym.size == 0) {
            // An assembly label: it runs until the next symbol of its module.
            s.end = module_end[static_cast<int>(p.kind)];
            for (size_t j = i + 1; j < m_pending.size(); ++j) {
                if (m_pending[j].sym.addr > p.sym.addr && m_pending[j].kind == p.kind) {
                    s.end = std::min(s.end, m_pending[j].sym.addr);
                    break;
                }
            }
            s.end = std::max(s.end, s.start + 1);
        }
        m_symbols.push_back(std::move(s));
    }
    m_pending.clear();
    m_ranged = m_symbols.size();
}

uint32_t SymbolTable::lookup(uint64_t pc) const {
    auto first = m_symbols.begin();
    auto last = first + static_cast<std::ptrdiff_t>(m_ranged);
    auto it = std::upper_bound(first, last, pc, [](uint64_t a, const Symbol& s) { return a < s.start; });
    if (it == first) return kNone;
    --it;
    if (pc >= it->end) return kNone;
    return static_cast<uint32_t>(it - first);
}

uint32_t SymbolTable::add_pseudo(std::string name, ModuleKind kind) {
    m_symbols.push_back(Symbol{0, 0, std::move(name), {}, kind, false});
    return static_cast<uint32_t>(m_symbols.size() - 1);
}

std::string short_name(std::string_view in) {
    std::string s(in);
    constexpr std::string_view kAnon = "(anonymous namespace)";
    for (size_t p; (p = s.find(kAnon)) != std::string::npos;) s.replace(p, kAnon.size(), "{anon}");
    std::string out;
    int depth = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '(') {
            // operator() and operator()(...): keep the operator's own "()".
            if (depth == 0 && out.ends_with("operator") && i + 1 < s.size() && s[i + 1] == ')') {
                out += "()";
                ++i;
                continue;
            }
            ++depth;
            continue;
        }
        if (c == ')' && depth > 0) {
            --depth;
            continue;
        }
        if (depth == 0) out += c;
    }
    // "f(args) const" leaves a trailing " const"; drop it with the arguments.
    if (out.ends_with(" const")) out.resize(out.size() - 6);
    return out;
}

}  // namespace ringlet::profile
