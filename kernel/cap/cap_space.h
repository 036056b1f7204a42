// CapSpace: every capability in the system, as nodes of one derivation
// forest, and every app's CapTable (slots naming nodes). Plain logic with no
// hardware: what a removed capability had mapped or owned is undone by the
// hook the kernel installs (unmap + TLB shootdown, free frames).
//
// Ownership rules:
//   * a root node (made by insert_root) owns its object; children made by
//     mint share it with fewer or equal rights;
//   * remove(cap) removes the cap and every descendant; revoke(cap) removes
//     only the descendants; the object is released when its root goes;
//   * a mapping belongs to the cap that made it and goes away with it;
//   * memory caps are budgets (bytes): a memory node that owns its object is
//     a pool (a root, or a child minted with a budget carved from its
//     parent's pool); one without draws from its nearest pool ancestor.
//     Whatever is drawn (a frame, a child pool) is a child node carrying a
//     `charge` against that pool, given back when the node goes.
//
// The kernel keeps one CapSpace for the machine (control plane, never a fast
// path), locked per table plus one derivation lock for changes to the forest
// (kernel/cap/machine_caps.h says which lock guards what, and their order).
// For that the CapSpace names the tables a removal will touch
// (tables_under) before it touches them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/bits.h"
#include "ringlet/cap_types.h"
#include "ringlet/result.h"

namespace ringlet {

struct CapNode {
    static constexpr int32_t kNone = -1;

    bool in_use = false;
    bool owns_object = false;   // the root: releasing it releases the object
    uint8_t type = kCapNull;
    uint32_t rights = 0;
    uint64_t base = 0;          // object: physical base (frame, MMIO, initrd)
    uint64_t size = 0;          //         and size in bytes; memory: the pool's budget
    uint64_t used = 0;          // memory pool: bytes drawn from the budget
    uint64_t charge = 0;        // bytes this node holds against its parent's pool
    uint32_t irq = 0;           // device: interrupt line
    uint32_t object = 0;        // channel: its ChannelTable id; dispatcher: its id; hart: its dense index
    uint16_t table = 0;         // where it lives
    uint16_t slot = 0;
    int32_t parent = kNone;
    int32_t first_child = kNone;
    int32_t next_sibling = kNone;
    int32_t prev_sibling = kNone;
    uint64_t map_root = 0;      // a mapping made through this cap (0: none)
    uint64_t map_va = 0;
};
// 2048 of them live in the kernel's .bss: a new field is a deliberate choice.
static_assert(sizeof(CapNode) == 88, "CapNode layout changed: update the size and kMaxNodes' memory budget");

// A set of CapTables (bit = table index): the tables an operation touches.
struct TableSet {
    uint64_t bits[2] = {};
    void add(uint16_t table) { bits[table / 64] |= 1ull << (table % 64); }
    bool has(uint16_t table) const { return bits[table / 64] >> (table % 64) & 1; }
    // Calls fn(table) for each table in the set, lowest first.
    template <typename Fn>
    void for_each(Fn fn) const {
        for (uint16_t w = 0; w < 2; ++w)
            for (uint64_t b = bits[w]; b; b &= b - 1) fn(static_cast<uint16_t>(w * 64 + count_trailing_zeros(b)));
    }
};

class CapSpace {
public:
    static constexpr size_t kMaxNodes = 2048;
    // One table per dispatcher slot, plus the kernel's own (kKernelTable),
    // which holds the roots of what boot creates (devices, harts, the initrd).
    static constexpr size_t kMaxTables = 65;
    static constexpr uint16_t kKernelTable = 64;
    static constexpr size_t kSlots = 128;

    // Called for every node just before it is freed (its mapping and, for a
    // root, its object must be undone by the callee).
    using RemoveHook = void (*)(const CapNode& node, void* ctx);
    void set_remove_hook(RemoveHook hook, void* ctx) {
        m_hook = hook;
        m_hook_ctx = ctx;
    }

    // A new root capability in `table` owning the described object.
    Result<CapIndex> insert_root(uint16_t table, uint8_t type, uint32_t rights, uint64_t base, uint64_t size,
                                 uint32_t irq = 0, uint32_t object = 0);

    // A new capability of another type over `cap`'s memory, as a child of
    // it (so revoking `cap` removes it) that owns a kernel object of its own:
    // how a channel is made from a frame. Needs kRightGrant on `cap`;
    // `rights` are limited to cap's.
    Result<CapIndex> derive_object(uint16_t table, CapIndex cap, uint8_t type, uint32_t rights, uint32_t object);

    // The node `cap` names in `table`, if it is of `type` (kCapNull: any) and
    // has all of `rights`. BadCapability for an empty, stale or forged
    // index; WrongType; NoRights.
    Result<CapNode*> lookup(uint16_t table, CapIndex cap, uint8_t type, uint32_t rights);

    // A child of `cap` in the same table with rights `rights & cap's`.
    // Needs kRightGrant on the parent.
    Result<CapIndex> mint(uint16_t table, CapIndex cap, uint32_t rights);

    // A child of `cap` (same rights subset rule) placed in another table:
    // how authority passes between apps. Needs kRightGrant. `budget` (bytes)
    // is for memory caps only: nonzero makes the child a pool of its own,
    // charged to cap's pool (OutOfMemory if that has less left); zero makes
    // a child that draws from cap's pool. InvalidArgument for a budget on
    // any other type.
    Result<CapIndex> grant(uint16_t from_table, CapIndex cap, uint16_t to_table, uint32_t rights,
                           uint64_t budget = 0);

    // Draws `size` bytes from the pool of memory cap `memory` (needs
    // kRightAlloc): a new node of `type` owning [base, base + size) with
    // `rights`, a child of `memory` in the same table, charged to the pool
    // until it goes. OutOfMemory if the pool has less than `size` left.
    Result<CapIndex> draw(uint16_t table, CapIndex memory, uint8_t type, uint32_t rights, uint64_t base,
                          uint64_t size);
    // Bytes left in the pool `node` (a memory node) draws from.
    uint64_t budget_left(const CapNode& node) const;

    // Removes `cap` and all its descendants (in any table).
    Result<void> remove(uint16_t table, CapIndex cap);
    // Removes all descendants of `cap`, keeping `cap` itself.
    Result<void> revoke(uint16_t table, CapIndex cap);
    // Removes every capability in `table` (its app has ended), its device
    // caps before all others.
    void clear_table(uint16_t table);

    // Adds to `out` every table holding `cap` or one of its descendants
    // (what remove(table, cap) would touch). BadCapability as lookup.
    Result<void> tables_under(uint16_t table, CapIndex cap, TableSet& out) const;
    // Adds every table that clear_table(table) would touch.
    void tables_under_table(uint16_t table, TableSet& out) const;

    size_t nodes_in_use() const { return m_used; }
    // Whether any descendant of `cap` in `table` has a mapping (any app can
    // still reach the object's memory through one). BadCapability as lookup.
    Result<bool> descendant_mapped(uint16_t table, CapIndex cap) const;
    // Inspection for consistency checks (tests, the fuzzer): the node at
    // position `i` (< kMaxNodes) if in use, else nullptr; and the position of
    // the pool memory node `i` draws from.
    const CapNode* node_at(size_t i) const { return i < kMaxNodes && m_nodes[i].in_use ? &m_nodes[i] : nullptr; }
    size_t pool_index(size_t i) const { return static_cast<size_t>(pool_of(static_cast<int32_t>(i))); }
    size_t caps_in_table(uint16_t table) const;

private:
    Result<CapIndex> place(uint16_t table, int32_t node);
    Result<int32_t> resolve(uint16_t table, CapIndex cap) const;
    Result<int32_t> new_node();
    void link_child(int32_t parent, int32_t child);
    void unlink(int32_t node);
    void remove_subtree(int32_t node, bool keep_root);
    void free_node(int32_t node);
    int32_t pool_of(int32_t memory_node) const;
    void add_subtree_tables(int32_t root, TableSet& out) const;
    template <typename Visit>
    bool any_descendant(int32_t root, Visit visit) const;

    CapNode m_nodes[kMaxNodes];
    int32_t m_slots[kMaxTables][kSlots];
    uint16_t m_generation[kMaxTables][kSlots] = {};
    bool m_slots_ready = false;
    size_t m_used = 0;
    size_t m_next_free = 0;
    RemoveHook m_hook = nullptr;
    void* m_hook_ctx = nullptr;
};

inline constexpr CapIndex make_cap_index(uint16_t slot, uint16_t generation) {
    return static_cast<CapIndex>(slot) | static_cast<CapIndex>(generation) << 16;
}

}  // namespace ringlet
