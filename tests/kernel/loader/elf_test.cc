#include "kernel/loader/elf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace ringlet {
namespace {

constexpr uint64_t kUserTop = 0x4000000000ull;

struct Seg {
    uint32_t type = 1, flags = 5;
    uint64_t offset = 0x1000, vaddr = 0x10000, filesz = 0x100, memsz = 0x100;
};

// A minimal ELF64 RISC-V executable: header, program headers, zero bytes.
std::vector<uint8_t> make_elf(const std::vector<Seg>& segs, uint64_t entry = 0x10000, size_t size = 0x3000) {
    std::vector<uint8_t> f(size, 0);
    auto put = [&](size_t at, uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) f[at + i] = static_cast<uint8_t>(v >> (8 * i));
    };
    f[0] = 0x7f, f[1] = 'E', f[2] = 'L', f[3] = 'F', f[4] = 2, f[5] = 1, f[6] = 1;
    put(16, 2, 2);
    put(18, 243, 2);
    put(24, entry, 8);
    put(32, 64, 8);
    put(54, 56, 2);
    put(56, segs.size(), 2);
    for (size_t i = 0; i < segs.size(); ++i) {
        size_t ph = 64 + i * 56;
        put(ph, segs[i].type, 4);
        put(ph + 4, segs[i].flags, 4);
        put(ph + 8, segs[i].offset, 8);
        put(ph + 16, segs[i].vaddr, 8);
        put(ph + 32, segs[i].filesz, 8);
        put(ph + 40, segs[i].memsz, 8);
    }
    return f;
}

std::string reason_of(const std::vector<uint8_t>& f) {
    const char* reason = "";
    auto r = ElfImage::parse(f.data(), f.size(), kUserTop, &reason);
    return r.ok() ? "ok" : reason;
}

TEST(ElfTest, AcceptsAStaticExecutable) {
    Seg text;
    Seg data{1, 6, 0x2000, 0x11000, 0x10, 0x5000};
    auto f = make_elf({text, data});
    auto image = ElfImage::parse(f.data(), f.size(), kUserTop);
    ASSERT_TRUE(image.ok());
    EXPECT_EQ(image->entry(), 0x10000u);
    ASSERT_EQ(image->segment_count(), 2u);
    EXPECT_TRUE(image->segment(0).executable);
    EXPECT_FALSE(image->segment(0).writable);
    EXPECT_TRUE(image->segment(1).writable);
    EXPECT_EQ(image->segment(1).memsz, 0x5000u);
}

TEST(ElfTest, RefusesBadHeaders) {
    auto good = make_elf({Seg{}});
    auto f = good;
    f[1] = 'X';
    EXPECT_EQ(reason_of(f), "not an ELF file");
    f = good;
    f[4] = 1;
    EXPECT_EQ(reason_of(f), "not 64-bit ELF");
    f = good;
    f[16] = 3;  // ET_DYN
    EXPECT_EQ(reason_of(f), "not a static executable (ET_EXEC)");
    f = good;
    f[18] = 62;  // x86-64
    EXPECT_EQ(reason_of(f), "not a RISC-V executable");
    f = good;
    f[54] = 32;
    EXPECT_EQ(reason_of(f), "bad program header size");
    EXPECT_EQ(reason_of(std::vector<uint8_t>(good.begin(), good.begin() + 40)), "file shorter than an ELF header");
    EXPECT_EQ(reason_of(std::vector<uint8_t>(good.begin(), good.begin() + 100)), "program headers outside the file");
}

TEST(ElfTest, RefusesUnknownVersionAndUnsupportedAbis) {
    auto good = make_elf({Seg{}});
    auto f = good;
    f[6] = 2;
    EXPECT_EQ(reason_of(f), "unknown ELF version");
    f = good;
    f[48] = 0x8;  // EF_RISCV_RVE
    EXPECT_EQ(reason_of(f), "RV64E (16-register) executables are not supported");
    f = good;
    f[48] = 0x2;  // EF_RISCV_FLOAT_ABI_SINGLE
    EXPECT_EQ(reason_of(f), "single/quad float ABI is not supported");
    f[48] = 0x6;  // EF_RISCV_FLOAT_ABI_QUAD
    EXPECT_EQ(reason_of(f), "single/quad float ABI is not supported");
    // What gcc emits for -march=rv64gc -mabi=lp64d (RVC | double) and lp64.
    f[48] = 0x5;
    EXPECT_EQ(reason_of(f), "ok");
    f[48] = 0x1;
    EXPECT_EQ(reason_of(f), "ok");
}

TEST(ElfTest, RefusesBadSegments) {
    EXPECT_EQ(reason_of(make_elf({Seg{1, 7}})), "segment is both writable and executable");
    EXPECT_EQ(reason_of(make_elf({Seg{1, 5, 0x1000, 0xffffffc000000000ull}}, 0xffffffc000000000ull)),
              "segment outside the user address range");
    EXPECT_EQ(reason_of(make_elf({Seg{1, 5, 0x1000, kUserTop - 0x80}})), "segment outside the user address range");
    EXPECT_EQ(reason_of(make_elf({Seg{1, 5, 0x1000, 0x10000, 0x200, 0x100}})),
              "segment file size exceeds its memory size");
    EXPECT_EQ(reason_of(make_elf({Seg{1, 5, 0x2f00, 0x10000, 0x200, 0x200}})), "segment bytes outside the file");
    EXPECT_EQ(reason_of(make_elf({Seg{}, Seg{1, 4, 0x1000, 0x10800, 0x10, 0x10}})), "segments overlap");
    EXPECT_EQ(reason_of(make_elf({Seg{1, 5, 0x1000, 0x0}}, 0)), "segment maps the null page");
    EXPECT_EQ(reason_of(make_elf({Seg{}}, 0x50000)), "entry point is not in an executable segment");
    EXPECT_EQ(reason_of(make_elf({Seg{3}})), "dynamic executables (PT_INTERP) are not supported");
    EXPECT_EQ(reason_of(make_elf({Seg{1, 5, 0x1000, 0x10000, 0, 0}})), "no loadable segments");
}

TEST(ElfTest, MutationsNeverCrash) {
    Seg text;
    Seg data{1, 6, 0x2000, 0x11000, 0x10, 0x5000};
    auto good = make_elf({text, data});
    uint32_t seed = 12345;
    for (int i = 0; i < 5000; ++i) {
        auto f = good;
        for (int k = 0; k < 3; ++k) {
            seed = seed * 1103515245 + 12345;
            f[(seed >> 8) % 64 + 56 * ((seed >> 20) % 3)] ^= static_cast<uint8_t>(seed >> 24);
        }
        auto image = ElfImage::parse(f.data(), f.size(), kUserTop);
        if (!image.ok()) continue;
        for (size_t s = 0; s < image->segment_count(); ++s) {  // whatever passed obeys the rules
            const ElfSegment& seg = image->segment(s);
            EXPECT_LE(seg.offset + seg.filesz, f.size());
            EXPECT_LT(seg.vaddr + seg.memsz, kUserTop + 1);
            EXPECT_FALSE(seg.writable && seg.executable);
        }
    }
}

}  // namespace
}  // namespace ringlet
