// Symbols: the functions of the ELF files a guest trace runs through (the
// kernel's and one app's), looked up by program counter. Built from the text
// that `nm -C -n -S --defined-only` prints, with each symbol's source file
// taken from the DWARF compile unit whose address range holds it (readelf
// --debug-dump=aranges and --debug-dump=info --dwarf-depth=1), so a function
// is filed under the .c/.cc file it was compiled from, not under a header it
// inlined.
#pragma once

#include <stdint.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::profile {

// Which ELF a symbol comes from; decides its layer before anything else.
enum class ModuleKind { Kernel, App };

// One line of `nm -S` output that names a function (text symbol).
struct NmSymbol {
    uint64_t addr = 0;
    uint64_t size = 0;  // 0: nm printed no size (an assembly label)
    char type = '?';
    std::string name;
};

// Parses one line of `nm [-C] -n -S --defined-only`: "ADDR [SIZE] TYPE NAME".
// Returns nothing for lines that are not function symbols (data, absolute,
// local labels .L*, mapping symbols $x/$d) or that do not parse.
std::optional<NmSymbol> parse_nm_line(std::string_view line);

// One address range of a DWARF compile unit (from .debug_aranges).
struct CuRange {
    uint64_t lo = 0;
    uint64_t len = 0;
    uint64_t cu_offset = 0;  // offset of the unit's header in .debug_info
};

// Parses `readelf --debug-dump=aranges`: every non-empty range with its unit.
std::vector<CuRange> parse_aranges(std::string_view text);

// Parses `readelf --debug-dump=info --dwarf-depth=1`: unit offset -> the
// compile unit's DW_AT_name (the source file it was compiled from).
std::map<uint64_t, std::string> parse_cu_names(std::string_view text);

// A function as the profiler reports it.
struct Symbol {
    uint64_t start = 0;
    uint64_t end = 0;  // one past the last byte attributed to it
    std::string name;  // demangled
    std::string file;  // compile unit's source path; empty when unknown
    ModuleKind module = ModuleKind::App;
    bool has_start = true;  // false for the pseudo-symbols below (no entry point)
};

// Every symbol of every module, sorted, with a binary-searched lookup.
// Address ranges of different modules must not overlap (they do not: the
// kernel is linked in the upper half, apps low).
class SymbolTable {
public:
    // Adds one module's functions. `cu_ranges` and `cu_names` may be empty.
    void add_module(ModuleKind kind, const std::vector<NmSymbol>& symbols,
                    const std::vector<CuRange>& cu_ranges = {},
                    const std::map<uint64_t, std::string>& cu_names = {});

    // Sorts and fixes extents; call once after the last add_module and
    // before any add_pseudo.
    // Symbols at one address collapse to one (sized before unsized, global
    // before local, then by name). An unsized symbol extends to the next
    // symbol of its module, or to the end of its module's sized symbols.
    void finalize();

    static constexpr uint32_t kNone = UINT32_MAX;

    // Index of the symbol whose [start, end) holds `pc`, or kNone (before the
    // first symbol, in a gap after a sized symbol, or outside every module).
    uint32_t lookup(uint64_t pc) const;

    // Appends a pseudo-symbol (no address range; e.g. "unknown user code")
    // and returns its index. Call after finalize().
    uint32_t add_pseudo(std::string name, ModuleKind kind);

    const Symbol& at(uint32_t i) const { return m_symbols[i]; }
    size_t size() const { return m_symbols.size(); }

private:
    std::vector<Symbol> m_symbols;
    size_t m_ranged = 0;  // m_symbols[0, m_ranged) are sorted by start
    struct Pending {
        NmSymbol sym;
        ModuleKind kind;
        std::string file;
    };
    std::vector<Pending> m_pending;
};

// Shortens a demangled C++ name for a table: "(anonymous namespace)" becomes
// "{anon}" and parameter lists are dropped (operator() keeps its parens);
// "[clone .actor]" style suffixes stay so coroutine parts stay apart.
std::string short_name(std::string_view demangled);

}  // namespace ringlet::profile
