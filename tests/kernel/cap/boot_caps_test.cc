// The boot's root capabilities and what init= apps get (kernel/cap/boot_caps.h).
#include "kernel/cap/boot_caps.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace ringlet {
namespace {

class BootCapsTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_caps = std::make_unique<CapSpace>();
        const BootDevice devices[3] = {{0x10001000, 4096, 1}, {0x10002000, 4096, 2}, {0x10003000, 4096, 3}};
        ASSERT_TRUE(m_boot.create(*m_caps, devices, 3, 2, 0x84000000, 0x20000).ok());
    }
    std::unique_ptr<CapSpace> m_caps;
    BootCaps m_boot;
    StartCap m_given[kMaxStartCaps] = {};
};

TEST_F(BootCapsTest, RootsLiveInTheKernelTable) {
    EXPECT_EQ(m_caps->caps_in_table(CapSpace::kKernelTable), 3u + 2u + 1u);
    auto dev = m_caps->lookup(CapSpace::kKernelTable, m_boot.device_root(1), kCapDevice, kRightMap);
    ASSERT_TRUE(dev.ok());
    EXPECT_EQ((*dev)->base, 0x10002000u);
    EXPECT_EQ((*dev)->irq, 2u);
}

TEST_F(BootCapsTest, AnInitAppGetsMemoryHartsImageAndItsDevices) {
    auto n = m_boot.give_init_caps(*m_caps, 5, 1 << 20, 0b101, m_given, kMaxStartCaps);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, 1u + 2u + 1u + 2u);
    EXPECT_EQ(m_caps->caps_in_table(5), 6u);
    EXPECT_EQ(m_given[0].type, kCapMemory);
    auto memory = m_caps->lookup(5, m_given[0].index, kCapMemory, kRightAlloc | kRightGrant);
    ASSERT_TRUE(memory.ok());
    EXPECT_EQ(m_caps->budget_left(**memory), 1u << 20);
    for (uint32_t h = 0; h < 2; ++h) {
        EXPECT_EQ(m_given[1 + h].type, kCapHart);
        EXPECT_EQ(m_given[1 + h].tag, h);
        auto hart = hart_from_cap(*m_caps, 5, m_given[1 + h].index);
        ASSERT_TRUE(hart.ok());
        EXPECT_EQ(*hart, h);
    }
    EXPECT_EQ(m_given[3].type, kCapImage);
    EXPECT_TRUE(m_caps->lookup(5, m_given[3].index, kCapImage, kRightExec).ok());
    EXPECT_EQ(m_given[4].type, kCapDevice);
    EXPECT_EQ(m_given[4].tag, 0u);
    EXPECT_EQ(m_given[5].tag, 2u);
    for (size_t i = 0; i < *n; ++i) EXPECT_EQ(m_given[i].origin, kStartFromBoot);
}

TEST_F(BootCapsTest, WhenTheAppEndsTheKernelKeepsItsRoots) {
    ASSERT_TRUE(m_boot.give_init_caps(*m_caps, 5, 4096, 0b111, m_given, kMaxStartCaps).ok());
    m_caps->clear_table(5);
    EXPECT_EQ(m_caps->caps_in_table(5), 0u);
    EXPECT_EQ(m_caps->caps_in_table(CapSpace::kKernelTable), 6u);
    // And the next app gets the same device again.
    auto n = m_boot.give_init_caps(*m_caps, 6, 4096, 0b010, m_given, kMaxStartCaps);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(m_given[*n - 1].tag, 1u);
}

// What the kernel's hand-back asks: does any app still map the device?
TEST_F(BootCapsTest, DescendantMappedSeesMappingsAtAnyDepth) {
    const CapIndex root = m_boot.device_root(0);
    auto n = m_boot.give_init_caps(*m_caps, 5, 4096, 0b1, m_given, kMaxStartCaps);
    ASSERT_TRUE(n.ok());
    const CapIndex held = m_given[*n - 1].index;  // the supervisor's: never mapped
    const CapIndex passed = *m_caps->grant(5, held, 6, kRightMap);
    EXPECT_FALSE(*m_caps->descendant_mapped(CapSpace::kKernelTable, root));
    (*m_caps->lookup(6, passed, kCapDevice, 0))->map_root = 0x1000;  // the driver app maps it
    EXPECT_TRUE(*m_caps->descendant_mapped(CapSpace::kKernelTable, root));
    EXPECT_FALSE(*m_caps->descendant_mapped(CapSpace::kKernelTable, m_boot.device_root(1)));
    m_caps->clear_table(6);  // the driver app ends
    EXPECT_FALSE(*m_caps->descendant_mapped(CapSpace::kKernelTable, root));
    EXPECT_EQ(m_caps->descendant_mapped(7, root).error(), Error::BadCapability);
}

TEST_F(BootCapsTest, TooSmallAListLeavesNothingBehind) {
    EXPECT_EQ(m_boot.give_init_caps(*m_caps, 5, 4096, 0b111, m_given, 3).error(), Error::Full);
    EXPECT_EQ(m_caps->caps_in_table(5), 0u);
    EXPECT_EQ(m_caps->nodes_in_use(), 6u);
}

TEST(HartFromCap, NeedsAHartCapWithRun) {
    auto caps = std::make_unique<CapSpace>();
    CapIndex hart = *caps->insert_root(1, kCapHart, kRightRun | kRightGrant, 0, 0, 0, 3);
    CapIndex frame = *caps->insert_root(1, kCapFrame, kRightFrameAll, 0x80000000, 4096);
    EXPECT_EQ(*hart_from_cap(*caps, 1, hart), 3u);
    EXPECT_EQ(hart_from_cap(*caps, 1, *caps->mint(1, hart, kRightGrant)).error(), Error::NoRights);
    EXPECT_EQ(hart_from_cap(*caps, 1, frame).error(), Error::WrongType);
    EXPECT_EQ(hart_from_cap(*caps, 1, 0).error(), Error::BadCapability);
    EXPECT_EQ(hart_from_cap(*caps, 2, hart).error(), Error::BadCapability);  // another app's index
}

uint32_t mask(const char* dev, const char* name, bool first_app, bool first_of_name = true, size_t devices = 8) {
    return boot_device_mask(dev, dev ? std::strlen(dev) : 0, name, std::strlen(name), first_app, first_of_name,
                            devices);
}

TEST(BootDeviceMask, WithoutDevTheFirstAppGetsEverySlot) {
    EXPECT_EQ(mask(nullptr, "echo", true), 0xffu);
    EXPECT_EQ(mask(nullptr, "ticker", false), 0u);
    EXPECT_EQ(mask(nullptr, "echo", true, true, 3), 0b111u);
}

TEST(BootDeviceMask, DevNamesAppsAndSlots) {
    EXPECT_EQ(mask("echo", "echo", false), 0xffu);
    EXPECT_EQ(mask("echo:0", "echo", false), 0b1u);
    EXPECT_EQ(mask("echo:0:3,blkcheck:1", "echo", true), 0b1001u);
    EXPECT_EQ(mask("echo:0:3,blkcheck:1", "blkcheck", false), 0b10u);
    EXPECT_EQ(mask("echo:0", "ticker", true), 0u);       // dev= names only echo, even if ticker is first
    EXPECT_EQ(mask("echo:0", "echo", false, false), 0u);  // a second echo gets nothing
    EXPECT_EQ(mask("none", "echo", true), 0u);
    EXPECT_EQ(mask("echo:9:x:1000:2", "echo", true), 0b100u);  // out of range and malformed slots are ignored
    EXPECT_EQ(mask("ech:0,echoes:1", "echo", true), 0u);        // whole names only
}

}  // namespace
}  // namespace ringlet
