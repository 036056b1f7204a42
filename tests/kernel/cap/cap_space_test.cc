#include "kernel/cap/cap_space.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ringlet {
namespace {

struct Removed {
    uint64_t base;
    bool owned;
    uint16_t table;
};

class CapSpaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_space = std::make_unique<CapSpace>();
        m_space->set_remove_hook(
            [](const CapNode& n, void* ctx) {
                static_cast<std::vector<Removed>*>(ctx)->push_back({n.base, n.owns_object, n.table});
            },
            &m_removed);
    }
    CapIndex root(uint16_t table = 0, uint64_t base = 0x1000) {
        auto r = m_space->insert_root(table, kCapFrame, kRightAll, base, 0x1000);
        EXPECT_TRUE(r.ok());
        return *r;
    }
    std::unique_ptr<CapSpace> m_space;
    std::vector<Removed> m_removed;
};

TEST_F(CapSpaceTest, LookupChecksTypeAndRights) {
    CapIndex cap = root();
    EXPECT_TRUE(m_space->lookup(0, cap, kCapFrame, kRightMap | kRightDma).ok());
    EXPECT_EQ(m_space->lookup(0, cap, kCapDevice, 0).error(), Error::WrongType);
    CapIndex ro = *m_space->mint(0, cap, kRightRead | kRightMap);
    EXPECT_EQ(m_space->lookup(0, ro, kCapFrame, kRightWrite).error(), Error::NoRights);
    EXPECT_TRUE(m_space->lookup(0, ro, kCapNull, kRightRead).ok());
}

TEST_F(CapSpaceTest, StaleForgedAndForeignIndicesAreBadCapability) {
    CapIndex cap = root();
    EXPECT_EQ(m_space->lookup(0, 0, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_space->lookup(0, cap + (1 << 16), kCapNull, 0).error(), Error::BadCapability);  // wrong generation
    EXPECT_EQ(m_space->lookup(0, 63, kCapNull, 0).error(), Error::BadCapability);               // empty slot
    EXPECT_EQ(m_space->lookup(0, 0xffff, kCapNull, 0).error(), Error::BadCapability);           // no such slot
    EXPECT_EQ(m_space->lookup(1, cap, kCapNull, 0).error(), Error::BadCapability);              // another app's
    EXPECT_EQ(m_space->lookup(9999, cap, kCapNull, 0).error(), Error::BadCapability);
    ASSERT_TRUE(m_space->remove(0, cap).ok());
    CapIndex reused = root();  // same slot, next generation
    EXPECT_EQ(reused & 0xffff, cap & 0xffff);
    EXPECT_EQ(m_space->lookup(0, cap, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_TRUE(m_space->lookup(0, reused, kCapNull, 0).ok());
}

// A channel made from a frame: its own type and object, the frame's memory,
// and it goes (with what it was granted to) when the frame is revoked.
TEST_F(CapSpaceTest, DerivedObjectIsAChildThatOwnsItsObjectButNotTheMemory) {
    CapIndex frame = root(0, 0x5000);
    auto channel = m_space->derive_object(0, frame, kCapChannel, kRightRead | kRightWrite | kRightMap | kRightGrant, 7);
    ASSERT_TRUE(channel.ok());
    auto node = m_space->lookup(0, *channel, kCapChannel, kRightMap);
    ASSERT_TRUE(node.ok());
    EXPECT_EQ((*node)->base, 0x5000u);
    EXPECT_EQ((*node)->object, 7u);
    EXPECT_TRUE((*node)->owns_object);
    auto given = m_space->grant(0, *channel, 3, kRightRead | kRightMap);
    ASSERT_TRUE(given.ok());
    auto other = m_space->lookup(3, *given, kCapChannel, 0);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ((*other)->object, 7u);
    EXPECT_FALSE((*other)->owns_object);
    EXPECT_EQ(m_space->lookup(3, *given, kCapNull, kRightWrite).error(), Error::NoRights);
    EXPECT_EQ(m_space->derive_object(0, frame, kCapNull, 0, 1).error(), Error::InvalidArgument);
    ASSERT_TRUE(m_space->revoke(0, frame).ok());
    EXPECT_EQ(m_space->lookup(3, *given, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_space->lookup(0, *channel, kCapNull, 0).error(), Error::BadCapability);
    ASSERT_EQ(m_removed.size(), 2u);
    EXPECT_FALSE(m_removed[0].owned);  // the granted child first, then the channel itself
    EXPECT_EQ(m_removed[0].table, 3u);
    EXPECT_TRUE(m_removed[1].owned);
    EXPECT_TRUE(m_space->lookup(0, frame, kCapFrame, 0).ok());
}

TEST_F(CapSpaceTest, RightsOnlyShrinkAndMintNeedsGrant) {
    CapIndex cap = root();
    CapIndex a = *m_space->mint(0, cap, kRightRead | kRightMap | kRightGrant);
    CapIndex b = *m_space->mint(0, a, kRightAll);  // asks for everything, gets a's rights
    EXPECT_EQ((*m_space->lookup(0, b, kCapNull, 0))->rights, uint32_t{kRightRead | kRightMap | kRightGrant});
    CapIndex c = *m_space->mint(0, b, kRightRead);
    EXPECT_EQ(m_space->mint(0, c, kRightRead).error(), Error::NoRights);
}

TEST_F(CapSpaceTest, RevokeRemovesDescendantsAcrossTablesAndKeepsTheCap) {
    CapIndex cap = root(0, 0x5000);
    CapIndex child = *m_space->mint(0, cap, kRightAll);
    CapIndex grandchild = *m_space->grant(0, child, 1, kRightRead | kRightMap);
    CapIndex sibling = *m_space->grant(0, cap, 2, kRightAll);
    EXPECT_EQ(m_space->nodes_in_use(), 4u);
    ASSERT_TRUE(m_space->revoke(0, cap).ok());
    EXPECT_TRUE(m_space->lookup(0, cap, kCapNull, 0).ok());
    EXPECT_EQ(m_space->lookup(0, child, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_space->lookup(1, grandchild, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_space->lookup(2, sibling, kCapNull, 0).error(), Error::BadCapability);
    ASSERT_EQ(m_removed.size(), 3u);
    for (auto& r : m_removed) EXPECT_FALSE(r.owned);  // only children went; the object stays
    EXPECT_EQ(m_space->nodes_in_use(), 1u);
}

TEST_F(CapSpaceTest, RemovingARootReleasesTheObjectLast) {
    CapIndex cap = root(0, 0x7000);
    (void)*m_space->mint(0, cap, kRightAll);
    (void)*m_space->grant(0, cap, 3, kRightAll);
    ASSERT_TRUE(m_space->remove(0, cap).ok());
    ASSERT_EQ(m_removed.size(), 3u);
    EXPECT_TRUE(m_removed.back().owned);
    EXPECT_EQ(m_removed.back().base, 0x7000u);
    EXPECT_EQ(m_space->nodes_in_use(), 0u);
    EXPECT_EQ(m_space->caps_in_table(3), 0u);
}

TEST_F(CapSpaceTest, DeepAndWideTreesAreRemovedWhole) {
    CapIndex cap = root();
    // A chain 60 deep in table 1 and 60 wide in table 2.
    CapIndex link = cap;
    for (int i = 0; i < 60; ++i) link = *m_space->grant(i == 0 ? 0 : 1, link, 1, kRightAll);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(m_space->grant(0, cap, 2, kRightAll).ok());
    size_t before = m_space->nodes_in_use();
    EXPECT_GT(before, 120u);
    ASSERT_TRUE(m_space->remove(0, cap).ok());
    EXPECT_EQ(m_space->nodes_in_use(), 0u);
    EXPECT_EQ(m_removed.size(), before);
}

TEST_F(CapSpaceTest, ClearTableRemovesItsCapsAndTheirDescendantsElsewhere) {
    CapIndex a = root(5, 0xa000);
    CapIndex other = root(6, 0xb000);
    CapIndex granted = *m_space->grant(5, a, 6, kRightAll);
    m_space->clear_table(5);
    EXPECT_EQ(m_space->caps_in_table(5), 0u);
    EXPECT_EQ(m_space->lookup(6, granted, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_TRUE(m_space->lookup(6, other, kCapNull, 0).ok());
}

TEST_F(CapSpaceTest, BadInsertions) {
    EXPECT_EQ(m_space->insert_root(0, kCapNull, kRightAll, 0, 0).error(), Error::InvalidArgument);
    EXPECT_EQ(m_space->insert_root(0, kCapFrame, 0x100, 0, 0).error(), Error::InvalidArgument);
    EXPECT_EQ(m_space->insert_root(CapSpace::kMaxTables, kCapFrame, kRightAll, 0, 0).error(),
              Error::InvalidArgument);
    for (size_t i = 0; i < CapSpace::kSlots; ++i) ASSERT_TRUE(m_space->insert_root(0, kCapFrame, kRightAll, i, 1).ok());
    EXPECT_EQ(m_space->insert_root(0, kCapFrame, kRightAll, 0, 0).error(), Error::Full);
    EXPECT_EQ(m_space->nodes_in_use(), CapSpace::kSlots);
}

}  // namespace
}  // namespace ringlet
