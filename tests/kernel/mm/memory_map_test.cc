#include "kernel/mm/memory_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringlet {
namespace {

std::vector<PhysRange> usable(std::vector<PhysRange> ram, std::vector<PhysRange> reserved, size_t max = 16) {
    std::vector<PhysRange> out(max);
    auto n = subtract_reserved(ram.data(), ram.size(), reserved.data(), reserved.size(), out.data(), max);
    EXPECT_TRUE(n.ok()) << error_name(n.error());
    out.resize(n.ok() ? *n : 0);
    return out;
}

void expect_ranges(const std::vector<PhysRange>& got, const std::vector<PhysRange>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].base, want[i].base) << i;
        EXPECT_EQ(got[i].size, want[i].size) << i;
    }
}

TEST(MemoryMapTest, QemuVirtLayout) {
    // 256 MiB at 2 GiB; OpenSBI at the bottom; kernel at +2 MiB; FDT near the top.
    auto r = usable({{0x80000000, 256 << 20}},
                    {{0x80000000, 0x80000}, {0x80200000, 0x20000}, {0x8fe00000, 0x2000}});
    expect_ranges(r, {{0x80080000, 0x180000}, {0x80220000, 0x8fe00000 - 0x80220000}, {0x8fe02000, 0x1fe000}});
}

TEST(MemoryMapTest, OverlappingAndUnalignedReservations) {
    auto r = usable({{0x1000, 0x10000}}, {{0x2800, 0x1000}, {0x3000, 0x2000}, {0x0, 0x1800}});
    // [0x1000,0x1800) and [0x2800,0x5000) reserved; pages shrink inward.
    // [0x1800,0x2800) is left between them but holds no whole page.
    expect_ranges(r, {{0x5000, 0xc000}});
}

TEST(MemoryMapTest, SeveralRamRangesSorted) {
    auto r = usable({{0x200000000, 0x100000}, {0x40000000, 0x100000}}, {{0x40080000, 0x1000}});
    expect_ranges(r, {{0x40000000, 0x80000}, {0x40081000, 0x7f000}, {0x200000000, 0x100000}});
}

TEST(MemoryMapTest, FullyReservedGivesNothing) {
    auto r = usable({{0x1000, 0x4000}}, {{0x0, 0x10000}});
    EXPECT_TRUE(r.empty());
}

TEST(MemoryMapTest, TooManyPiecesIsFull) {
    std::vector<PhysRange> reserved;
    for (uint64_t i = 0; i < 10; ++i) reserved.push_back({0x10000 + i * 0x2000, 0x1000});
    std::vector<PhysRange> ram{{0x10000, 0x20000}};
    PhysRange out[4];
    auto n = subtract_reserved(ram.data(), ram.size(), reserved.data(), reserved.size(), out, 4);
    EXPECT_EQ(n.error(), Error::Full);
}

TEST(MemoryMapTest, WrappingRangeIsRejected) {
    PhysRange ram{0xfffffffffffff000, 0x2000};
    PhysRange out[4];
    EXPECT_EQ(subtract_reserved(&ram, 1, nullptr, 0, out, 4).error(), Error::InvalidArgument);
}

}  // namespace
}  // namespace ringlet
