// Aggregation of retired instructions (profile.h).
#include "profile.h"

namespace ringlet::profile {

Profile::Profile(SymbolTable& symbols)
    : m_symbols(symbols),
      m_firmware(symbols.add_pseudo("[M-mode firmware]", ModuleKind::Kernel)),
      m_unknown_kernel(symbols.add_pseudo("[unknown kernel code]", ModuleKind::Kernel)),
      m_unknown_user(symbols.add_pseudo("[unknown user code]", ModuleKind::App)) {
    m_functions.resize(symbols.size());
    m_layers.reserve(symbols.size());
    for (uint32_t i = 0; i < symbols.size(); ++i) m_layers.push_back(classify(symbols.at(i)));
}

uint32_t Profile::attribute(const Retired& insn) {
    // M-mode runs at physical addresses that could alias an app's virtual
    // ones: never look it up in the tables.
    if (insn.mode == Mode::Machine) return m_firmware;
    const uint64_t key = insn.pc ^ (insn.mode == Mode::User ? 0 : 1);  // pcs are 2-aligned
    if (auto it = m_cache.find(key); it != m_cache.end()) return it->second;
    uint32_t sym = m_symbols.lookup(insn.pc);
    // A user pc in the kernel's table (or the reverse) is not that function.
    if (sym != SymbolTable::kNone) {
        const bool kernel_sym = m_symbols.at(sym).module == ModuleKind::Kernel;
        if (kernel_sym != (insn.mode != Mode::User)) sym = SymbolTable::kNone;
    }
    if (sym == SymbolTable::kNone) sym = insn.mode == Mode::User ? m_unknown_user : m_unknown_kernel;
    m_cache.emplace(key, sym);
    return sym;
}

void Profile::add(const Retired& insn) {
    const uint32_t sym = attribute(insn);
    FunctionStats& f = m_functions[sym];
    ++f.instructions;
    const Symbol& s = m_symbols.at(sym);
    if (s.has_start && insn.pc == s.start && m_prev != sym) ++f.calls;
    m_prev = sym;
    ++m_total;
    ++m_by_mode[static_cast<size_t>(insn.mode)];
    ++m_by_layer[static_cast<size_t>(m_layers[sym])];
}

}  // namespace ringlet::profile
