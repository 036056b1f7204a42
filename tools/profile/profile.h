// Profile: retired instructions attributed to functions, with entry counts.
//
// Every instruction counts once for the function whose address range holds
// its pc ("self" cost; no call graph). A call of F is an instruction retired
// at F's start address right after an instruction attributed to another
// function (or to none): a call, a tail call, or a trap vector entered. A
// jump back to F's first instruction from inside F (a loop whose head is the
// entry, direct self-recursion) is not a call, and neither is a return into
// the middle of F.
//
// Instructions with no symbol go to pseudo-functions: "[M-mode firmware]" for
// anything in M-mode (OpenSBI: the SBI calls and the timer and IPI traps it
// forwards), "[unknown kernel code]" for other S-mode pcs, "[unknown user
// code]" for U-mode ones.
#pragma once

#include <stdint.h>

#include <array>
#include <unordered_map>
#include <vector>

#include "exec_log.h"
#include "layers.h"
#include "symbols.h"

namespace ringlet::profile {

struct FunctionStats {
    uint64_t instructions = 0;
    uint64_t calls = 0;
};

class Profile {
public:
    // Takes the finalized table; adds its pseudo-functions to it.
    explicit Profile(SymbolTable& symbols);

    // One retired instruction, in trace order.
    void add(const Retired& insn);
    void operator()(const Retired& insn) { add(insn); }

    uint64_t total() const { return m_total; }
    uint64_t total_in(Mode m) const { return m_by_mode[static_cast<size_t>(m)]; }
    uint64_t layer_total(Layer l) const { return m_by_layer[static_cast<size_t>(l)]; }
    // Indexed like the symbol table.
    const std::vector<FunctionStats>& functions() const { return m_functions; }
    Layer layer_of(uint32_t symbol) const { return m_layers[symbol]; }
    const SymbolTable& symbols() const { return m_symbols; }

private:
    uint32_t attribute(const Retired& insn);

    SymbolTable& m_symbols;
    uint32_t m_firmware, m_unknown_kernel, m_unknown_user;
    std::vector<FunctionStats> m_functions;
    std::vector<Layer> m_layers;
    std::unordered_map<uint64_t, uint32_t> m_cache;  // pc -> symbol (pcs repeat a lot)
    uint32_t m_prev = SymbolTable::kNone;
    uint64_t m_total = 0;
    std::array<uint64_t, 3> m_by_mode{};
    std::array<uint64_t, kLayerCount> m_by_layer{};
};

}  // namespace ringlet::profile
