#include "kernel/cap/cap_space.h"

namespace ringlet {
namespace {
constexpr int32_t kNone = CapNode::kNone;
// A pool's `used` changes only under the derivation lock, but is read
// without it (budget_left): whole-word atomic stores.
void add_used(CapNode& pool, uint64_t delta) {
    __atomic_store_n(&pool.used, pool.used + delta, __ATOMIC_RELAXED);
}
}

Result<int32_t> CapSpace::new_node() {
    if (!m_slots_ready) {
        for (auto& table : m_slots)
            for (auto& s : table) s = kNone;
        m_slots_ready = true;
    }
    for (size_t i = 0; i < kMaxNodes; ++i) {
        size_t n = (m_next_free + i) % kMaxNodes;
        if (!m_nodes[n].in_use) {
            m_nodes[n] = CapNode{};
            m_nodes[n].in_use = true;
            m_next_free = n + 1;
            ++m_used;
            return static_cast<int32_t>(n);
        }
    }
    return Error::OutOfMemory;
}

Result<CapIndex> CapSpace::place(uint16_t table, int32_t node) {
    if (table >= kMaxTables) return Error::InvalidArgument;
    for (uint16_t s = 0; s < kSlots; ++s) {
        if (m_slots[table][s] != kNone) continue;
        m_slots[table][s] = node;
        m_nodes[node].table = table;
        m_nodes[node].slot = s;
        // Generation 0 is never handed out, so a zeroed index is always invalid.
        if (++m_generation[table][s] == 0) m_generation[table][s] = 1;
        return make_cap_index(s, m_generation[table][s]);
    }
    return Error::Full;
}

Result<int32_t> CapSpace::resolve(uint16_t table, CapIndex cap) const {
    if (table >= kMaxTables || !m_slots_ready) return Error::BadCapability;
    uint64_t slot = cap & 0xffff;
    uint64_t generation = cap >> 16;
    if (slot >= kSlots || generation != m_generation[table][slot]) return Error::BadCapability;
    int32_t node = m_slots[table][slot];
    if (node == kNone) return Error::BadCapability;
    return node;
}

Result<CapIndex> CapSpace::insert_root(uint16_t table, uint8_t type, uint32_t rights, uint64_t base, uint64_t size,
                                       uint32_t irq, uint32_t object) {
    if (table >= kMaxTables || type == kCapNull || (rights & ~uint32_t{kRightAll})) return Error::InvalidArgument;
    int32_t n = TRY(new_node());
    CapNode& node = m_nodes[n];
    node.owns_object = true;
    node.type = type;
    node.rights = rights;
    node.base = base;
    node.size = size;
    node.irq = irq;
    node.object = object;
    auto index = place(table, n);
    if (!index) {
        node.in_use = false;  // nothing to undo: it never held anything
        --m_used;
    }
    return index;
}

Result<CapNode*> CapSpace::lookup(uint16_t table, CapIndex cap, uint8_t type, uint32_t rights) {
    int32_t n = TRY(resolve(table, cap));
    CapNode& node = m_nodes[n];
    if (type != kCapNull && node.type != type) return Error::WrongType;
    if ((node.rights & rights) != rights) return Error::NoRights;
    return &node;
}

void CapSpace::link_child(int32_t parent, int32_t child) {
    CapNode& p = m_nodes[parent];
    CapNode& c = m_nodes[child];
    c.parent = parent;
    c.prev_sibling = kNone;
    c.next_sibling = p.first_child;
    if (p.first_child != kNone) m_nodes[p.first_child].prev_sibling = child;
    p.first_child = child;
}

void CapSpace::unlink(int32_t node) {
    CapNode& n = m_nodes[node];
    if (n.prev_sibling != kNone) m_nodes[n.prev_sibling].next_sibling = n.next_sibling;
    else if (n.parent != kNone) m_nodes[n.parent].first_child = n.next_sibling;
    if (n.next_sibling != kNone) m_nodes[n.next_sibling].prev_sibling = n.prev_sibling;
    n.parent = n.next_sibling = n.prev_sibling = kNone;
}

int32_t CapSpace::pool_of(int32_t n) const {
    // A memory node without a budget of its own was granted from one that
    // has one (or from another such node): some ancestor is its pool.
    while (!m_nodes[n].owns_object) n = m_nodes[n].parent;
    return n;
}

uint64_t CapSpace::budget_left(const CapNode& node) const {
    if (node.type != kCapMemory) return 0;
    // Read under the caller's table lock alone (decode, cap_identify) while
    // a draw from another table may change it: a snapshot, re-checked by
    // grant and draw, which change it under the derivation lock.
    const CapNode& pool = m_nodes[pool_of(static_cast<int32_t>(&node - m_nodes))];
    return pool.size - __atomic_load_n(&pool.used, __ATOMIC_RELAXED);
}

Result<CapIndex> CapSpace::grant(uint16_t from_table, CapIndex cap, uint16_t to_table, uint32_t rights,
                                 uint64_t budget) {
    int32_t parent = TRY(resolve(from_table, cap));
    if (!(m_nodes[parent].rights & kRightGrant)) return Error::NoRights;
    if (to_table >= kMaxTables) return Error::InvalidArgument;
    if (budget != 0) {
        if (m_nodes[parent].type != kCapMemory) return Error::InvalidArgument;
        if (budget > budget_left(m_nodes[parent])) return Error::OutOfMemory;  // never more than the parent has
    }
    int32_t n = TRY(new_node());
    CapNode& child = m_nodes[n];
    const CapNode& p = m_nodes[parent];
    child.type = p.type;
    child.rights = p.rights & rights;  // rights only shrink
    child.base = p.base;
    child.size = p.size;
    child.irq = p.irq;
    child.object = p.object;
    auto index = place(to_table, n);
    if (!index) {
        child.in_use = false;
        --m_used;
        return index.error();
    }
    link_child(parent, n);
    if (budget != 0) {
        child.owns_object = true;  // a pool of its own
        child.size = budget;
        child.charge = budget;
        add_used(m_nodes[pool_of(parent)], budget);
    }
    return index;
}

Result<CapIndex> CapSpace::draw(uint16_t table, CapIndex memory, uint8_t type, uint32_t rights, uint64_t base,
                                uint64_t size) {
    if (type == kCapNull || type == kCapMemory || (rights & ~uint32_t{kRightAll})) return Error::InvalidArgument;
    int32_t parent = TRY(resolve(table, memory));
    if (m_nodes[parent].type != kCapMemory) return Error::WrongType;
    if (!(m_nodes[parent].rights & kRightAlloc)) return Error::NoRights;
    if (size > budget_left(m_nodes[parent])) return Error::OutOfMemory;
    // A root's node (it owns its object), then hung under the memory cap.
    CapIndex index = TRY(insert_root(table, type, rights, base, size));
    int32_t n = TRY(resolve(table, index));
    link_child(parent, n);
    m_nodes[n].charge = size;
    add_used(m_nodes[pool_of(parent)], size);
    return index;
}

Result<CapIndex> CapSpace::mint(uint16_t table, CapIndex cap, uint32_t rights) {
    return grant(table, cap, table, rights);
}

Result<CapIndex> CapSpace::derive_object(uint16_t table, CapIndex cap, uint8_t type, uint32_t rights,
                                         uint32_t object) {
    if (type == kCapNull || (rights & ~uint32_t{kRightAll})) return Error::InvalidArgument;
    CapIndex index = TRY(grant(table, cap, table, rights));
    CapNode& node = m_nodes[TRY(resolve(table, index))];
    node.type = type;
    node.owns_object = true;
    node.object = object;
    return index;
}

// Gives the node's charge back to its pool (still there: removal is
// post-order, parents after children), runs the hook, frees the node.
void CapSpace::free_node(int32_t n) {
    CapNode& node = m_nodes[n];
    if (node.charge && node.parent != kNone) add_used(m_nodes[pool_of(node.parent)], 0 - node.charge);
    unlink(n);
    if (m_hook) m_hook(node, m_hook_ctx);
    m_slots[node.table][node.slot] = kNone;
    node.in_use = false;
    --m_used;
}

// Post-order, iteratively (the tree may be deeper than a kernel stack).
void CapSpace::remove_subtree(int32_t root, bool keep_root) {
    int32_t n = root;
    for (;;) {
        while (m_nodes[n].first_child != kNone) n = m_nodes[n].first_child;  // deepest first child
        if (n == root) break;
        int32_t parent = m_nodes[n].parent;
        free_node(n);
        n = parent;
    }
    if (!keep_root) free_node(root);
}

Result<void> CapSpace::remove(uint16_t table, CapIndex cap) {
    int32_t n = TRY(resolve(table, cap));
    // A child outliving its root would name a released object: when a root
    // goes, its whole tree goes (the same as revoke + delete).
    remove_subtree(n, false);
    return {};
}

Result<void> CapSpace::revoke(uint16_t table, CapIndex cap) {
    int32_t n = TRY(resolve(table, cap));
    remove_subtree(n, true);
    return {};
}

void CapSpace::clear_table(uint16_t table) {
    if (table >= kMaxTables || !m_slots_ready) return;
    // Device caps first: the hook hands a device back (reset) when its last
    // cap goes, and that must happen before the frames it may still write
    // into are freed.
    for (int pass = 0; pass < 2; ++pass) {
        for (uint16_t s = 0; s < kSlots; ++s) {
            int32_t n = m_slots[table][s];
            if (n != kNone && (pass == 1 || m_nodes[n].type == kCapDevice)) remove_subtree(n, false);
        }
    }
}

// The descendants of `root` (not root itself), pre-order over first-child /
// next-sibling links, no recursion; stops at the first for which `visit`
// returns true, and says whether one did.
template <typename Visit>
bool CapSpace::any_descendant(int32_t root, Visit visit) const {
    int32_t n = m_nodes[root].first_child;
    while (n != kNone) {
        if (visit(m_nodes[n])) return true;
        if (m_nodes[n].first_child != kNone) {
            n = m_nodes[n].first_child;
            continue;
        }
        while (n != root && m_nodes[n].next_sibling == kNone) n = m_nodes[n].parent;
        if (n == root) break;
        n = m_nodes[n].next_sibling;
    }
    return false;
}

Result<bool> CapSpace::descendant_mapped(uint16_t table, CapIndex cap) const {
    const int32_t root = TRY(resolve(table, cap));
    return any_descendant(root, [](const CapNode& node) { return node.map_root != 0; });
}

void CapSpace::add_subtree_tables(int32_t root, TableSet& out) const {
    out.add(m_nodes[root].table);
    any_descendant(root, [&out](const CapNode& node) {
        out.add(node.table);
        return false;
    });
}

Result<void> CapSpace::tables_under(uint16_t table, CapIndex cap, TableSet& out) const {
    add_subtree_tables(TRY(resolve(table, cap)), out);
    return {};
}

void CapSpace::tables_under_table(uint16_t table, TableSet& out) const {
    if (table >= kMaxTables || !m_slots_ready) return;
    out.add(table);
    for (uint16_t s = 0; s < kSlots; ++s)
        if (m_slots[table][s] != kNone) add_subtree_tables(m_slots[table][s], out);
}

size_t CapSpace::caps_in_table(uint16_t table) const {
    if (table >= kMaxTables || !m_slots_ready) return 0;
    size_t count = 0;
    for (uint16_t s = 0; s < kSlots; ++s) count += m_slots[table][s] != kNone;
    return count;
}

}  // namespace ringlet
