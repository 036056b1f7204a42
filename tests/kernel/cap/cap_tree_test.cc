// Derivation-tree edge cases for CapSpace (kernel/cap/cap_space.h): trees as
// deep as the node pool, revocation in the middle of a tree, hook order,
// exhaustion without leaks, generations.
#include "kernel/cap/cap_space.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ringlet {
namespace {

struct Seen {
    uint64_t base;
    uint16_t table;
    uint16_t slot;
    bool owned;
    bool had_children;
    bool linked;  // still had a parent or siblings when the hook ran
};

class CapTreeTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_space = std::make_unique<CapSpace>();
        m_space->set_remove_hook(
            [](const CapNode& n, void* ctx) {
                static_cast<std::vector<Seen>*>(ctx)->push_back(
                    {n.base, n.table, n.slot, n.owns_object, n.first_child != CapNode::kNone,
                     n.parent != CapNode::kNone || n.next_sibling != CapNode::kNone ||
                         n.prev_sibling != CapNode::kNone});
            },
            &m_seen);
    }
    CapIndex root(uint16_t table, uint64_t base) {
        auto r = m_space->insert_root(table, kCapFrame, kRightAll, base, 0x1000);
        EXPECT_TRUE(r.ok());
        return r.value_or(0);
    }
    size_t total_caps() const {
        size_t n = 0;
        for (uint16_t t = 0; t < CapSpace::kMaxTables; ++t) n += m_space->caps_in_table(t);
        return n;
    }
    std::unique_ptr<CapSpace> m_space;
    std::vector<Seen> m_seen;
};

// A chain as long as the node pool allows, hopping across every table:
// removal must be iterative (a recursive walk would need ~2000 frames of
// kernel stack) and must reach every link.
TEST_F(CapTreeTest, ChainAsDeepAsThePoolIsRemovedWhole) {
    CapIndex top = root(0, 0x1000);
    CapIndex link = top;
    uint16_t table = 0;
    size_t made = 1;
    for (;;) {
        uint16_t next = static_cast<uint16_t>((table + 1) % CapSpace::kMaxTables);
        auto r = m_space->grant(table, link, next, kRightAll);
        if (!r) {
            EXPECT_EQ(r.error(), Error::OutOfMemory);
            break;
        }
        link = *r;
        table = next;
        ++made;
    }
    EXPECT_EQ(made, CapSpace::kMaxNodes);
    EXPECT_EQ(m_space->nodes_in_use(), CapSpace::kMaxNodes);
    EXPECT_EQ(total_caps(), CapSpace::kMaxNodes);
    ASSERT_TRUE(m_space->remove(0, top).ok());
    EXPECT_EQ(m_space->nodes_in_use(), 0u);
    EXPECT_EQ(total_caps(), 0u);
    ASSERT_EQ(m_seen.size(), CapSpace::kMaxNodes);
    // Post-order along a chain: deepest first, the owning root last.
    EXPECT_EQ(m_seen.back().table, 0);
    EXPECT_TRUE(m_seen.back().owned);
    for (size_t i = 0; i + 1 < m_seen.size(); ++i) EXPECT_FALSE(m_seen[i].owned);
}

// Every removed node reaches the hook as a leaf, already unlinked: the hook
// may undo its mapping without seeing half-removed neighbours.
TEST_F(CapTreeTest, HookSeesUnlinkedLeavesChildrenFirst) {
    CapIndex top = root(0, 0x1000);
    CapIndex a = *m_space->mint(0, top, kRightAll);
    CapIndex b = *m_space->grant(0, a, 1, kRightAll);
    (void)*m_space->grant(1, b, 2, kRightAll);
    (void)*m_space->mint(0, a, kRightAll);
    (void)*m_space->mint(0, top, kRightAll);
    ASSERT_TRUE(m_space->remove(0, top).ok());
    ASSERT_EQ(m_seen.size(), 6u);
    for (const Seen& s : m_seen) {
        EXPECT_FALSE(s.had_children);
        EXPECT_FALSE(s.linked);
    }
    EXPECT_TRUE(m_seen.back().owned);
}

TEST_F(CapTreeTest, RevokeInTheMiddleKeepsAncestorsAndSiblings) {
    CapIndex top = root(0, 0x1000);
    CapIndex left = *m_space->mint(0, top, kRightAll);
    CapIndex right = *m_space->grant(0, top, 1, kRightAll);
    CapIndex left_kid = *m_space->grant(0, left, 2, kRightRead | kRightGrant);
    CapIndex left_grandkid = *m_space->grant(2, left_kid, 3, kRightRead);
    CapIndex right_kid = *m_space->mint(1, right, kRightRead);
    ASSERT_TRUE(m_space->revoke(0, left).ok());
    EXPECT_TRUE(m_space->lookup(0, top, kCapNull, 0).ok());
    EXPECT_TRUE(m_space->lookup(0, left, kCapNull, 0).ok());
    EXPECT_TRUE(m_space->lookup(1, right, kCapNull, 0).ok());
    EXPECT_TRUE(m_space->lookup(1, right_kid, kCapNull, 0).ok());
    EXPECT_EQ(m_space->lookup(2, left_kid, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_space->lookup(3, left_grandkid, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_seen.size(), 2u);
    // The revoked cap can derive again, and a later revoke of the root still
    // reaches the new children.
    CapIndex again = *m_space->grant(0, left, 4, kRightRead);
    ASSERT_TRUE(m_space->revoke(0, top).ok());
    EXPECT_EQ(m_space->lookup(4, again, kCapNull, 0).error(), Error::BadCapability);
    EXPECT_EQ(m_space->nodes_in_use(), 1u);
}

// Deleting a child granted to another app removes only that child (and what
// was derived from it); the granter's cap is untouched.
TEST_F(CapTreeTest, DeletingAGrantedChildLeavesTheParent) {
    CapIndex top = root(0, 0x1000);
    CapIndex given = *m_space->grant(0, top, 1, kRightAll);
    CapIndex sibling = *m_space->grant(0, top, 1, kRightRead);
    (void)*m_space->mint(1, given, kRightRead);
    ASSERT_TRUE(m_space->remove(1, given).ok());
    EXPECT_EQ(m_seen.size(), 2u);
    EXPECT_TRUE(m_space->lookup(0, top, kCapNull, 0).ok());
    EXPECT_TRUE(m_space->lookup(1, sibling, kCapNull, 0).ok());
    EXPECT_EQ(m_space->caps_in_table(1), 1u);
    // Revoke and delete through a stale index do nothing.
    EXPECT_EQ(m_space->revoke(1, given).error(), Error::BadCapability);
    EXPECT_EQ(m_space->remove(1, given).error(), Error::BadCapability);
    EXPECT_EQ(m_seen.size(), 2u);
}

TEST_F(CapTreeTest, GrantChecksRightsAndTargets) {
    CapIndex top = root(0, 0x1000);
    CapIndex no_grant = *m_space->mint(0, top, kRightRead | kRightMap);
    EXPECT_EQ(m_space->grant(0, no_grant, 1, kRightRead).error(), Error::NoRights);
    EXPECT_EQ(m_space->grant(0, top, CapSpace::kMaxTables, kRightRead).error(), Error::InvalidArgument);
    EXPECT_EQ(m_space->grant(1, top, 2, kRightRead).error(), Error::BadCapability);  // not table 1's cap
    CapIndex granted = *m_space->grant(0, top, 1, kRightRead | kRightDma);
    auto node = m_space->lookup(1, granted, kCapFrame, 0);
    ASSERT_TRUE(node.ok());
    EXPECT_EQ((*node)->rights, uint32_t{kRightRead | kRightDma});
    EXPECT_EQ((*node)->base, 0x1000u);  // shares the object
    EXPECT_FALSE((*node)->owns_object);
}

// A grant into a full table fails cleanly: no node leaks, no link is left.
TEST_F(CapTreeTest, GrantIntoAFullTableLeaksNothing) {
    CapIndex top = root(0, 0x1000);
    for (size_t i = 0; i < CapSpace::kSlots; ++i) ASSERT_TRUE(m_space->grant(0, top, 1, kRightRead).ok());
    size_t used = m_space->nodes_in_use();
    EXPECT_EQ(m_space->grant(0, top, 1, kRightRead).error(), Error::Full);
    EXPECT_EQ(m_space->nodes_in_use(), used);
    ASSERT_TRUE(m_space->remove(0, top).ok());
    EXPECT_EQ(m_space->nodes_in_use(), 0u);
    EXPECT_EQ(m_seen.size(), CapSpace::kSlots + 1);
}

TEST_F(CapTreeTest, NodePoolExhaustionRecovers) {
    std::vector<CapIndex> roots;
    for (uint16_t t = 0; roots.size() < CapSpace::kMaxNodes; t = static_cast<uint16_t>(t + 1))
        for (size_t s = 0; s < CapSpace::kSlots && roots.size() < CapSpace::kMaxNodes; ++s)
            roots.push_back(root(t, 0x1000 * roots.size()));
    EXPECT_EQ(m_space->insert_root(63, kCapFrame, kRightAll, 0, 0x1000).error(), Error::OutOfMemory);
    EXPECT_EQ(m_space->mint(0, roots[0], kRightRead).error(), Error::OutOfMemory);
    ASSERT_TRUE(m_space->remove(0, roots[5]).ok());
    EXPECT_TRUE(m_space->insert_root(63, kCapFrame, kRightAll, 0, 0x1000).ok());
}

// Index 0 never names a capability, and a slot reused many times always
// gets a fresh generation (until the 16-bit generation wraps: 65535 reuses).
TEST_F(CapTreeTest, GenerationsAreFreshAndNeverZero) {
    CapIndex top = root(0, 0x1000);
    CapIndex first = *m_space->mint(0, top, kRightRead);
    CapIndex previous = first;
    for (int i = 0; i < 70000; ++i) {
        ASSERT_TRUE(m_space->remove(0, previous).ok());
        CapIndex next = *m_space->mint(0, top, kRightRead);
        ASSERT_NE(next, 0u);
        ASSERT_NE(next >> 16, 0u);
        ASSERT_NE(next, previous);
        ASSERT_EQ(m_space->lookup(0, previous, kCapNull, 0).error(), Error::BadCapability);
        previous = next;
    }
}

// The kernel locks every table a removal will touch before it starts
// (kernel/cap/machine_caps.h): tables_under must name exactly those.
TEST_F(CapTreeTest, TablesUnderNamesEveryTableARemovalTouches) {
    CapIndex r = root(1, 0x1000);
    CapIndex in_two = m_space->grant(1, r, 2, kRightAll).value_or(0);
    ASSERT_NE(in_two, 0u);
    ASSERT_TRUE(m_space->grant(2, in_two, 5, kRightAll).ok());  // a grandchild in table 5
    ASSERT_TRUE(m_space->grant(1, r, 64, kRightAll).ok());      // the kernel's table
    (void)root(3, 0x2000);                                       // untouched

    TableSet whole;
    ASSERT_TRUE(m_space->tables_under(1, r, whole).ok());
    for (uint16_t t = 0; t < CapSpace::kMaxTables; ++t)
        EXPECT_EQ(whole.has(t), t == 1 || t == 2 || t == 5 || t == 64) << "table " << t;

    TableSet sub;
    ASSERT_TRUE(m_space->tables_under(2, in_two, sub).ok());
    EXPECT_TRUE(sub.has(2) && sub.has(5));
    EXPECT_FALSE(sub.has(1) || sub.has(64));

    TableSet clear;
    m_space->tables_under_table(2, clear);
    EXPECT_TRUE(clear.has(2) && clear.has(5));
    EXPECT_FALSE(clear.has(1) || clear.has(3));

    TableSet none;
    EXPECT_EQ(m_space->tables_under(1, 0x7777, none).error(), Error::BadCapability);

    // What removal touched is what was named.
    m_seen.clear();
    ASSERT_TRUE(m_space->remove(1, r).ok());
    for (const Seen& s : m_seen) EXPECT_TRUE(whole.has(s.table)) << "table " << s.table;
    EXPECT_EQ(m_seen.size(), 4u);
}

}  // namespace
}  // namespace ringlet
