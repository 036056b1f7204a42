// Memory caps as budgets (kernel/cap/cap_space.h): drawing, carving child
// pools, and every byte coming back when what it paid for goes.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "kernel/cap/cap_space.h"

namespace ringlet {
namespace {

constexpr uint64_t kPage = 4096;

class CapBudgetTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_caps = std::make_unique<CapSpace>();
        m_root = *m_caps->insert_root(0, kCapMemory, kRightAlloc | kRightGrant, 0, 16 * kPage);
    }
    uint64_t left(uint16_t table, CapIndex cap) { return m_caps->budget_left(**m_caps->lookup(table, cap, kCapMemory, 0)); }
    Result<CapIndex> draw(uint16_t table, CapIndex memory, uint64_t pages) {
        return m_caps->draw(table, memory, kCapFrame, kRightFrameAll, 0x80000000, pages * kPage);
    }
    std::unique_ptr<CapSpace> m_caps;
    CapIndex m_root = 0;
};

TEST_F(CapBudgetTest, DrawingChargesAndDeletingReturns) {
    CapIndex frame = *draw(0, m_root, 10);
    EXPECT_EQ(left(0, m_root), 6 * kPage);
    EXPECT_EQ(draw(0, m_root, 7).error(), Error::OutOfMemory);
    CapIndex more = *draw(0, m_root, 6);
    EXPECT_EQ(left(0, m_root), 0u);
    ASSERT_TRUE(m_caps->remove(0, frame).ok());
    EXPECT_EQ(left(0, m_root), 10 * kPage);
    // A minted copy of a frame carries no charge: deleting it returns nothing twice.
    CapIndex copy = *m_caps->mint(0, more, kRightRead);
    ASSERT_TRUE(m_caps->remove(0, copy).ok());
    EXPECT_EQ(left(0, m_root), 10 * kPage);
}

TEST_F(CapBudgetTest, DrawNeedsAllocOnAMemoryCap) {
    CapIndex no_alloc = *m_caps->mint(0, m_root, kRightGrant);
    EXPECT_EQ(draw(0, no_alloc, 1).error(), Error::NoRights);
    CapIndex frame = *draw(0, m_root, 1);
    EXPECT_EQ(draw(0, frame, 1).error(), Error::WrongType);
    EXPECT_EQ(m_caps->draw(0, m_root, kCapMemory, kRightAlloc, 0, kPage).error(), Error::InvalidArgument);
}

TEST_F(CapBudgetTest, AChildPoolIsCarvedFromItsParentAndNeverExceedsIt) {
    CapIndex child = *m_caps->grant(0, m_root, 1, kRightAlloc | kRightGrant, 8 * kPage);
    EXPECT_EQ(left(0, m_root), 8 * kPage);
    EXPECT_EQ(left(1, child), 8 * kPage);
    EXPECT_EQ(m_caps->grant(1, child, 2, kRightAlloc, 9 * kPage).error(), Error::OutOfMemory);
    EXPECT_EQ(m_caps->grant(0, m_root, 2, kRightAlloc, 9 * kPage).error(), Error::OutOfMemory);
    CapIndex grandchild = *m_caps->grant(1, child, 2, kRightAlloc, 3 * kPage);
    (void)*draw(2, grandchild, 3);
    (void)*draw(1, child, 5);
    EXPECT_EQ(left(1, child), 0u);
    EXPECT_EQ(left(0, m_root), 8 * kPage);  // the root only sees the child's budget
    // The grandchild's app ends: its frames and its budget go back up.
    m_caps->clear_table(2);
    EXPECT_EQ(left(1, child), 3 * kPage);
    // The child's app ends: everything it was given returns to the root.
    m_caps->clear_table(1);
    EXPECT_EQ(left(0, m_root), 16 * kPage);
}

TEST_F(CapBudgetTest, AChildWithoutABudgetSharesItsParentsPool) {
    CapIndex shared = *m_caps->grant(0, m_root, 1, kRightAlloc, 0);
    (void)*draw(1, shared, 12);
    EXPECT_EQ(left(0, m_root), 4 * kPage);
    EXPECT_EQ(left(1, shared), 4 * kPage);
    EXPECT_EQ(m_caps->grant(0, m_root, 1, kRightAlloc, 5 * kPage).error(), Error::OutOfMemory);
    // Revoking the root's descendants takes back the shared cap and what it drew.
    ASSERT_TRUE(m_caps->revoke(0, m_root).ok());
    EXPECT_EQ(left(0, m_root), 16 * kPage);
    EXPECT_EQ(m_caps->nodes_in_use(), 1u);
}

TEST_F(CapBudgetTest, OnlyMemoryHasABudget) {
    CapIndex frame = *draw(0, m_root, 1);
    EXPECT_EQ(m_caps->grant(0, frame, 0, kRightRead, kPage).error(), Error::InvalidArgument);
    EXPECT_EQ(m_caps->budget_left(**m_caps->lookup(0, frame, kCapNull, 0)), 0u);
}

TEST_F(CapBudgetTest, ATableIsClearedDevicesFirst) {
    std::vector<uint8_t> order;
    m_caps->set_remove_hook([](const CapNode& n, void* ctx) { static_cast<std::vector<uint8_t>*>(ctx)->push_back(n.type); },
                            &order);
    (void)*draw(0, m_root, 1);
    (void)*m_caps->insert_root(0, kCapDevice, kRightMap, 0x10001000, kPage);
    m_caps->clear_table(0);
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order[0], kCapDevice);  // reset before the frames it may write are freed
}

}  // namespace
}  // namespace ringlet
