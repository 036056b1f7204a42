#include "kernel/lib/symbol_table.h"

namespace ringlet {

Result<SymbolHit> SymbolTable::lookup(uint64_t addr) const {
    if (m_count == 0 || addr < m_addrs[0]) return Error::NotFound;
    size_t lo = 0, hi = m_count;  // invariant: m_addrs[lo] <= addr, answer in [lo, hi)
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m_addrs[mid] <= addr) lo = mid;
        else hi = mid;
    }
    return SymbolHit{m_names + m_offsets[lo], addr - m_addrs[lo]};
}

#ifndef RINGLET_HOST_BUILD
extern "C" const uint64_t ksyms_count;
extern "C" const uint64_t ksyms_addrs[];
extern "C" const uint32_t ksyms_name_offsets[];
extern "C" const char ksyms_names[];

SymbolTable SymbolTable::kernel() { return SymbolTable(ksyms_addrs, ksyms_name_offsets, ksyms_names, ksyms_count); }
#endif

}  // namespace ringlet
