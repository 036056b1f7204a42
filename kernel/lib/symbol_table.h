// Address-to-name lookup over the kernel's own symbol table (generated at
// build time by arch/riscv64/gen_ksyms.sh), for panics and backtraces.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

struct SymbolHit {
    const char* name;
    uint64_t offset;  // addr - symbol start
};

class SymbolTable {
public:
    // `addrs` sorted ascending; name i is at names + name_offsets[i].
    SymbolTable(const uint64_t* addrs, const uint32_t* name_offsets, const char* names, size_t count)
        : m_addrs(addrs), m_offsets(name_offsets), m_names(names), m_count(count) {}

    // The symbol containing `addr`: the last one starting at or below it.
    // NotFound below the first symbol or when the table is empty.
    Result<SymbolHit> lookup(uint64_t addr) const;

    // The table linked into this kernel (riscv64 only).
    static SymbolTable kernel();

private:
    const uint64_t* m_addrs;
    const uint32_t* m_offsets;
    const char* m_names;
    size_t m_count;
};

}  // namespace ringlet
