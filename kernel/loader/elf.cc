#include "kernel/loader/elf.h"

namespace ringlet {
namespace {

constexpr uint64_t kPage = 4096;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t rd32(const uint8_t* p) { return rd16(p) | static_cast<uint32_t>(rd16(p + 2)) << 16; }
uint64_t rd64(const uint8_t* p) { return rd32(p) | static_cast<uint64_t>(rd32(p + 4)) << 32; }

}  // namespace

Result<ElfImage> ElfImage::parse(const uint8_t* f, size_t size, uint64_t user_top, const char** reason) {
    const char* why = check(f, size, user_top, nullptr);
    ElfImage image;
    if (!why) why = check(f, size, user_top, &image);
    if (why) {
        if (reason) *reason = why;
        return Error::BadFormat;
    }
    return image;
}

// Returns nullptr when `f` is acceptable (filling *out if given), else why not.
const char* ElfImage::check(const uint8_t* f, size_t size, uint64_t user_top, ElfImage* out) {
    if (size < 4 || f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F') return "not an ELF file";
    if (size < 64) return "file shorter than an ELF header";
    if (f[4] != 2) return "not 64-bit ELF";
    if (f[5] != 1) return "not little-endian";
    if (rd16(f + 16) != 2) return "not a static executable (ET_EXEC)";
    if (rd16(f + 18) != 243) return "not a RISC-V executable";
    if (f[6] != 1) return "unknown ELF version";
    // e_flags: the kernel runs rv64 with 32 integer registers and saves the
    // D-extension state, so RV64E and the single/quad float ABIs cannot run.
    uint32_t flags = rd32(f + 48);
    if (flags & 0x8) return "RV64E (16-register) executables are not supported";
    if ((flags & 0x6) == 0x2 || (flags & 0x6) == 0x6) return "single/quad float ABI is not supported";
    ElfImage local;
    ElfImage& image = out ? *out : local;
    image.m_entry = rd64(f + 24);
    uint64_t phoff = rd64(f + 32);
    uint16_t phentsize = rd16(f + 54);
    uint16_t phnum = rd16(f + 56);
    if (phentsize != 56) return "bad program header size";
    if (phnum == 0) return "no program headers";
    if (phoff > size || (size - phoff) / phentsize < phnum) return "program headers outside the file";

    bool entry_in_text = false;
    for (uint16_t i = 0; i < phnum; ++i) {
        const uint8_t* ph = f + phoff + static_cast<uint64_t>(i) * phentsize;
        uint32_t type = rd32(ph);
        if (type == 3) return "dynamic executables (PT_INTERP) are not supported";
        if (type == 2) return "dynamic executables (PT_DYNAMIC) are not supported";
        if (type != 1) continue;  // PT_LOAD only
        uint32_t flags = rd32(ph + 4);
        ElfSegment s{rd64(ph + 16), rd64(ph + 40), rd64(ph + 8), rd64(ph + 32),
                     (flags & 4) != 0, (flags & 2) != 0, (flags & 1) != 0};
        if (s.memsz == 0) continue;
        if (s.filesz > s.memsz) return "segment file size exceeds its memory size";
        if (s.offset > size || size - s.offset < s.filesz) return "segment bytes outside the file";
        if (s.vaddr >= user_top || s.memsz > user_top - s.vaddr) return "segment outside the user address range";
        if (s.vaddr < kPage) return "segment maps the null page";
        if (s.writable && s.executable) return "segment is both writable and executable";
        if (image.m_count == kMaxSegments) return "too many segments";
        uint64_t start = s.vaddr & ~(kPage - 1);
        uint64_t end = (s.vaddr + s.memsz + kPage - 1) & ~(kPage - 1);
        for (size_t k = 0; k < image.m_count; ++k) {
            const ElfSegment& o = image.m_segments[k];
            uint64_t o_start = o.vaddr & ~(kPage - 1);
            uint64_t o_end = (o.vaddr + o.memsz + kPage - 1) & ~(kPage - 1);
            if (start < o_end && o_start < end) return "segments overlap";
        }
        if (s.executable && image.m_entry >= s.vaddr && image.m_entry < s.vaddr + s.memsz) entry_in_text = true;
        image.m_segments[image.m_count++] = s;
    }
    if (image.m_count == 0) return "no loadable segments";
    if (!entry_in_text) return "entry point is not in an executable segment";
    return nullptr;
}

}  // namespace ringlet
