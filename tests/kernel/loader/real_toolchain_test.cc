// The loader against what the real tools produce: a static riscv64 program
// built by riscv64-linux-gnu-gcc -nostdlib -static, packed by GNU cpio -H newc
// (see CMakeLists.txt). Catches disagreements that hand-made headers in
// elf_test.cc / cpio_test.cc cannot, such as extra program header types.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel/loader/cpio.h"
#include "kernel/loader/elf.h"

namespace ringlet {
namespace {

constexpr uint64_t kUserTop = 0x4000000000ull;

std::vector<uint8_t> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(RealToolchain, StaticBinaryIsAccepted) {
    auto elf = read_file(RINGLET_TINY_APP);
    const char* reason = nullptr;
    auto image = ElfImage::parse(elf.data(), elf.size(), kUserTop, &reason);
    ASSERT_TRUE(image.ok()) << reason;
    bool text = false, data = false;
    for (size_t i = 0; i < image->segment_count(); ++i) {
        const ElfSegment& s = image->segment(i);
        EXPECT_LT(s.vaddr + s.memsz, kUserTop);
        EXPECT_LE(s.filesz, s.memsz);
        EXPECT_FALSE(s.writable && s.executable);
        if (s.executable) {
            text = true;
            EXPECT_GE(image->entry(), s.vaddr);
            EXPECT_LT(image->entry(), s.vaddr + s.memsz);
        }
        // counter lives in .data, scratch in .bss: a writable segment whose
        // memory is larger than its file bytes.
        if (s.writable && s.memsz > s.filesz) data = true;
    }
    EXPECT_TRUE(text);
    EXPECT_TRUE(data);
}

TEST(RealToolchain, DamagedRealBinaryIsRefusedWithAReason) {
    auto elf = read_file(RINGLET_TINY_APP);
    ASSERT_GT(elf.size(), 64u);
    auto wrong_machine = elf;
    wrong_machine[18] = 62;  // EM_X86_64
    wrong_machine[19] = 0;
    const char* reason = nullptr;
    EXPECT_EQ(ElfImage::parse(wrong_machine.data(), wrong_machine.size(), kUserTop, &reason).error(),
              Error::BadFormat);
    EXPECT_STREQ(reason, "not a RISC-V executable");
    // A user half smaller than where the linker put the program: the
    // segments now lie in "kernel space".
    reason = nullptr;
    EXPECT_EQ(ElfImage::parse(elf.data(), elf.size(), 0x1000, &reason).error(), Error::BadFormat);
    EXPECT_NE(reason, nullptr);
    // Cut inside the header, the program headers or the last segment's file
    // bytes: refused. (The section headers at the end are not needed.)
    auto image = ElfImage::parse(elf.data(), elf.size(), kUserTop);
    ASSERT_TRUE(image.ok());
    size_t segments_end = 0;
    for (size_t i = 0; i < image->segment_count(); ++i) {
        const ElfSegment& s = image->segment(i);
        segments_end = std::max<size_t>(segments_end, s.offset + s.filesz);
    }
    ASSERT_GT(segments_end, 64u + 56u);
    EXPECT_TRUE(ElfImage::parse(elf.data(), segments_end, kUserTop).ok());
    for (size_t cut : {size_t{63}, size_t{64 + 56}, segments_end - 1}) {
        auto r = ElfImage::parse(elf.data(), cut, kUserTop);
        EXPECT_FALSE(r.ok()) << "cut at " << cut;
    }
}

TEST(RealToolchain, CpioArchiveFromGnuCpio) {
    auto archive = read_file(RINGLET_TEST_INITRD);
    auto elf = read_file(RINGLET_TINY_APP);
    CpioReader reader(archive.data(), archive.size());
    auto app = reader.find("tiny_app", 8);
    ASSERT_TRUE(app.ok());
    ASSERT_EQ(app->size, elf.size());
    EXPECT_EQ(std::vector<uint8_t>(app->data, app->data + app->size), elf);
    auto motd = reader.find("etc/motd", 8);
    ASSERT_TRUE(motd.ok());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(motd->data), motd->size), "hello\n");
    EXPECT_EQ(reader.find("etc", 3).error(), Error::NotFound);  // a directory, not a file
    EXPECT_EQ(reader.find("tiny", 4).error(), Error::NotFound);  // names match exactly
    // Walking the archive visits the three entries, then the trailer.
    size_t offset = 0, entries = 0;
    for (;;) {
        size_t next = 0;
        auto entry = reader.entry_at(offset, &next);
        if (!entry) {
            EXPECT_EQ(entry.error(), Error::Empty);
            break;
        }
        ++entries;
        ASSERT_GT(next, offset);
        offset = next;
    }
    EXPECT_EQ(entries, 3u);
    // The app found in the archive is a valid app.
    EXPECT_TRUE(ElfImage::parse(app->data, app->size, kUserTop).ok());
}

}  // namespace
}  // namespace ringlet
