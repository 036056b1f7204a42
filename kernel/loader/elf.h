// ELF64 checks and segment list for U-mode apps: static RISC-V executables
// (ET_EXEC, EM_RISCV, little-endian), whose PT_LOAD segments lie wholly in the
// user half, do not overlap (page-rounded), are never both writable and
// executable, and whose file bytes lie inside the file.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

struct ElfSegment {
    uint64_t vaddr;
    uint64_t memsz;
    uint64_t offset;  // of the file bytes
    uint64_t filesz;
    bool readable, writable, executable;
};

class ElfImage {
public:
    static constexpr size_t kMaxSegments = 8;

    // Checks `file` (size bytes) as an app whose addresses must be < user_top.
    // On BadFormat, *reason (if given) says what is wrong, for the console.
    static Result<ElfImage> parse(const uint8_t* file, size_t size, uint64_t user_top,
                                  const char** reason = nullptr);

    uint64_t entry() const { return m_entry; }
    size_t segment_count() const { return m_count; }
    const ElfSegment& segment(size_t i) const { return m_segments[i]; }

private:
    static const char* check(const uint8_t* file, size_t size, uint64_t user_top, ElfImage* out);

    uint64_t m_entry = 0;
    ElfSegment m_segments[kMaxSegments] = {};
    size_t m_count = 0;
};

}  // namespace ringlet
