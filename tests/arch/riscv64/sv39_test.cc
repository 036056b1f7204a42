// The Sv39 builder on host memory: "physical addresses" are indices of 4 KiB
// frames in a host buffer, so every table the builder writes can be checked.
#include "arch/riscv64/sv39.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ringlet::sv39 {
namespace {

constexpr size_t kFrames = 64;
alignas(4096) uint64_t g_memory[kFrames][512];
size_t g_used;

struct HostEnv {
    static constexpr bool kAllowWriteExec = false;
    static Result<uint64_t> alloc_table() {
        if (g_used == kFrames) return Error::OutOfMemory;
        std::memset(g_memory[g_used], 0, 4096);
        return static_cast<uint64_t>(g_used++) << 12;  // PA = frame index * 4 KiB
    }
    static uint64_t* table(uint64_t pa) { return g_memory[pa >> 12]; }
};

struct RwxEnv : HostEnv {
    static constexpr bool kAllowWriteExec = true;
};

class Sv39Test : public ::testing::Test {
protected:
    void SetUp() override { g_used = 0; }
};

constexpr uint64_t kKernel = 0xffffffffc0200000ull;

TEST_F(Sv39Test, MapsAndTranslates4K) {
    auto pt = PageTable<HostEnv>::create();
    ASSERT_TRUE(pt.ok());
    ASSERT_TRUE(pt->map(kKernel, 0x80200000, 3 * 4096, kMapRead | kMapExec).ok());
    EXPECT_EQ(g_used, 3u);  // root + level 1 + level 0
    auto t = pt->translate(kKernel + 0x1234);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->pa, 0x80201234u);
    EXPECT_EQ(t->perm, kMapRead | kMapExec);
    EXPECT_EQ(t->level, 0);
    EXPECT_EQ(pt->translate(kKernel + 3 * 4096).error(), Error::NotFound);

    // The leaf PTE itself: PPN, V/R/X and A/D set (the U74 does not set them).
    uint64_t* root = HostEnv::table(pt->root());
    uint64_t l1 = root[vpn(kKernel, 2)];
    ASSERT_TRUE(l1 & kPteV);
    EXPECT_FALSE(l1 & (kPteR | kPteW | kPteX));
    uint64_t* l0 = HostEnv::table(pte_to_pa(HostEnv::table(pte_to_pa(l1))[vpn(kKernel, 1)]));
    uint64_t leaf = l0[vpn(kKernel, 0)];
    EXPECT_EQ(pte_to_pa(leaf), 0x80200000u);
    EXPECT_EQ(leaf & 0xff, kPteV | kPteR | kPteX | kPteA | kPteD);
}

TEST_F(Sv39Test, UsesLargePagesWhenAligned) {
    auto pt = PageTable<HostEnv>::create();
    ASSERT_TRUE(pt->map(0xffffffc000000000ull, 0x80000000, (1ull << 30) + (2ull << 20) + 4096, kMapRead | kMapWrite).ok());
    EXPECT_EQ(pt->translate(0xffffffc000000000ull + 12345)->level, 2);
    EXPECT_EQ(pt->translate(0xffffffc040000000ull)->level, 1);
    EXPECT_EQ(pt->translate(0xffffffc040200000ull)->level, 0);
    EXPECT_EQ(pt->translate(0xffffffc040200000ull)->pa, 0xc0200000u);
    // max_level 0 forces 4 KiB pages.
    auto small = PageTable<HostEnv>::create();
    ASSERT_TRUE(small->map(0x200000, 0x200000, 2 << 20, kMapRead, 0).ok());
    EXPECT_EQ(small->translate(0x3ff000)->level, 0);
}

TEST_F(Sv39Test, RefusesWriteExecuteUnlessAllowed) {
    auto pt = PageTable<HostEnv>::create();
    EXPECT_EQ(pt->map(kKernel, 0, 4096, kMapRead | kMapWrite | kMapExec).error(), Error::InvalidArgument);
    auto early = PageTable<RwxEnv>::create();
    EXPECT_TRUE(early->map(kKernel, 0, 4096, kMapRead | kMapWrite | kMapExec).ok());
}

TEST_F(Sv39Test, RejectsBadRequests) {
    auto pt = PageTable<HostEnv>::create();
    EXPECT_EQ(pt->map(kKernel + 1, 0, 4096, kMapRead).error(), Error::InvalidArgument);
    EXPECT_EQ(pt->map(kKernel, 0x123, 4096, kMapRead).error(), Error::InvalidArgument);
    EXPECT_EQ(pt->map(kKernel, 0, 0, kMapRead).error(), Error::InvalidArgument);
    EXPECT_EQ(pt->map(kKernel, 0, 4096, 0).error(), Error::InvalidArgument);
    EXPECT_EQ(pt->map(0x0000800000000000ull, 0, 4096, kMapRead).error(), Error::OutOfRange);  // not canonical
    EXPECT_EQ(pt->map(0x3ffffff000ull, 0, 8192, kMapRead).error(), Error::OutOfRange);  // crosses the hole
    ASSERT_TRUE(pt->map(kKernel, 0, 4096, kMapRead).ok());
    EXPECT_EQ(pt->map(kKernel, 0x1000, 4096, kMapRead).error(), Error::Exists);
}

TEST_F(Sv39Test, UnmapRemovesOnlyWholePages) {
    auto pt = PageTable<HostEnv>::create();
    ASSERT_TRUE(pt->map(0x40000000, 0x40000000, 2 << 20, kMapRead | kMapWrite | kMapUser).ok());
    EXPECT_EQ(pt->translate(0x40000000)->perm, kMapRead | kMapWrite | kMapUser);
    EXPECT_EQ(pt->unmap(0x40000000, 4096).error(), Error::InvalidArgument);  // would split a 2 MiB page
    ASSERT_TRUE(pt->unmap(0x40000000, 2 << 20).ok());
    EXPECT_EQ(pt->translate(0x40000000).error(), Error::NotFound);
    EXPECT_EQ(pt->unmap(0x40000000, 4096).error(), Error::NotFound);
    ASSERT_TRUE(pt->map(0x40000000, 0x50000000, 4096, kMapRead).ok());  // tables are reused
    EXPECT_EQ(pt->translate(0x40000000)->pa, 0x50000000u);
}

TEST_F(Sv39Test, OutOfTableMemoryIsAnError) {
    auto pt = PageTable<HostEnv>::create();
    g_used = kFrames;
    EXPECT_EQ(pt->map(kKernel, 0, 4096, kMapRead).error(), Error::OutOfMemory);
}

TEST(Sv39Bits, SatpAndCanonical) {
    EXPECT_EQ(satp_for(0x80201000), (8ull << 60) | 0x80201);
    EXPECT_TRUE(canonical(0xffffffc000000000ull));
    EXPECT_TRUE(canonical(0x0000003fffffffffull));
    EXPECT_FALSE(canonical(0x0000004000000000ull));
    EXPECT_FALSE(canonical(0xffffffbfffffffffull));
}

}  // namespace
}  // namespace ringlet::sv39
