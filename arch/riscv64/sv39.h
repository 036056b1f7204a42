// Sv39 page tables (RISC-V privileged spec, section 4.4): three levels of 512
// eight-byte PTEs; leaves at level 2 map 1 GiB, level 1 map 2 MiB, level 0
// map 4 KiB. Plain logic over memory, so the host unit tests run it on
// ordinary buffers.
//
// Env supplies, as static functions (direct calls only, so the builder can run
// position-independently before the MMU is on):
//   static Result<uint64_t> alloc_table();   // a zeroed 4 KiB frame's PA
//   static uint64_t* table(uint64_t pa);     // where the CPU can write it now
//   static constexpr bool kAllowWriteExec;    // the early boot map needs RWX
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/mm/map_perm.h"
#include "ringlet/result.h"

namespace ringlet::sv39 {

inline constexpr uint64_t kPteV = 1u << 0;
inline constexpr uint64_t kPteR = 1u << 1;
inline constexpr uint64_t kPteW = 1u << 2;
inline constexpr uint64_t kPteX = 1u << 3;
inline constexpr uint64_t kPteU = 1u << 4;
inline constexpr uint64_t kPteG = 1u << 5;
inline constexpr uint64_t kPteA = 1u << 6;
inline constexpr uint64_t kPteD = 1u << 7;

inline constexpr uint64_t kVaBits = 39;

constexpr uint64_t page_size_at(int level) { return 4096ull << (9 * level); }
constexpr size_t vpn(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }
constexpr uint64_t pte_to_pa(uint64_t pte) { return (pte >> 10) << 12; }
constexpr uint64_t pa_to_pte(uint64_t pa) { return (pa >> 12) << 10; }

// A VA is valid in Sv39 when bits 63..39 all equal bit 38.
constexpr bool canonical(uint64_t va) {
    uint64_t top = va >> (kVaBits - 1);
    return top == 0 || top == (~0ull >> (kVaBits - 1));
}

// A and D are set up front: the U74 faults instead of setting them.
constexpr uint64_t leaf_bits(uint32_t perm) {
    uint64_t b = kPteV | kPteA | kPteD;
    if (perm & kMapRead) b |= kPteR;
    if (perm & kMapWrite) b |= kPteW | kPteR;  // W without R is reserved
    if (perm & kMapExec) b |= kPteX;
    if (perm & kMapUser) b |= kPteU;
    if (perm & kMapGlobal) b |= kPteG;
    return b;
}

constexpr uint32_t perm_of(uint64_t pte) {
    uint32_t p = 0;
    if (pte & kPteR) p |= kMapRead;
    if (pte & kPteW) p |= kMapWrite;
    if (pte & kPteX) p |= kMapExec;
    if (pte & kPteU) p |= kMapUser;
    if (pte & kPteG) p |= kMapGlobal;
    return p;
}

struct Translation {
    uint64_t pa;
    uint32_t perm;
    int level;  // of the leaf: 0 (4 KiB), 1 (2 MiB), 2 (1 GiB)
};

template <typename Env>
class PageTable {
public:
    explicit PageTable(uint64_t root_pa) : m_root(root_pa) {}

    // Creates an empty table whose root comes from Env::alloc_table().
    static Result<PageTable> create() { return PageTable(TRY(Env::alloc_table())); }

    uint64_t root() const { return m_root; }

    // Maps [va, va+size) to [pa, pa+size) with `perm`, using pages up to
    // 1 << (12 + 9*max_level) bytes wherever va and pa are both aligned.
    // Fails (and maps nothing new past the failure) on misalignment, a
    // non-canonical VA, an overlap with an existing mapping, W+X when not
    // allowed, or no memory for a table.
    Result<void> map(uint64_t va, uint64_t pa, uint64_t size, uint32_t perm, int max_level = 2) {
        if ((va | pa | size) & 4095) return Error::InvalidArgument;
        if (size == 0 || !(perm & (kMapRead | kMapWrite | kMapExec))) return Error::InvalidArgument;
        if (!Env::kAllowWriteExec && (perm & kMapWrite) && (perm & kMapExec)) return Error::InvalidArgument;
        if (!canonical(va) || !canonical(va + size - 1) || va + size < va) return Error::OutOfRange;
        uint64_t done = 0;
        while (done < size) {
            int level = max_level;
            while (level > 0) {
                uint64_t ps = page_size_at(level);
                if (((va + done) % ps) == 0 && ((pa + done) % ps) == 0 && size - done >= ps) break;
                --level;
            }
            uint64_t* slot = TRY(walk(va + done, level, true));
            if (*slot & kPteV) return Error::Exists;
            *slot = pa_to_pte(pa + done) | leaf_bits(perm);
            done += page_size_at(level);
        }
        return {};
    }

    // Removes the leaf mappings in [va, va+size); each must exist and lie
    // wholly inside the range (no splitting of large pages). Tables that
    // become empty are kept: they are reused by the next map.
    Result<void> unmap(uint64_t va, uint64_t size) {
        if ((va | size) & 4095) return Error::InvalidArgument;
        uint64_t done = 0;
        while (done < size) {
            auto t = TRY(find_leaf(va + done));
            uint64_t ps = page_size_at(t.level);
            if ((va + done) % ps != 0 || size - done < ps) return Error::InvalidArgument;
            *t.slot = 0;
            done += ps;
        }
        return {};
    }

    // The physical address and permissions `va` translates to.
    Result<Translation> translate(uint64_t va) const {
        auto leaf = TRY(find_leaf(va));
        uint64_t ps = page_size_at(leaf.level);
        return Translation{pte_to_pa(*leaf.slot) + (va & (ps - 1)), perm_of(*leaf.slot), leaf.level};
    }

    // Calls free_table(pa) for every table below the root that serves the
    // root entries [first, last], then clears those entries. Leaves' frames
    // are not touched: whoever mapped them owns them.
    template <typename FreeFn>
    void release_tables(size_t first, size_t last, FreeFn free_table) {
        uint64_t* root = Env::table(m_root);
        for (size_t i = first; i <= last && i < 512; ++i) {
            if (!(root[i] & kPteV) || (root[i] & (kPteR | kPteW | kPteX))) {
                root[i] = 0;
                continue;
            }
            uint64_t l1_pa = pte_to_pa(root[i]);
            uint64_t* l1 = Env::table(l1_pa);
            for (size_t j = 0; j < 512; ++j) {
                if ((l1[j] & kPteV) && !(l1[j] & (kPteR | kPteW | kPteX))) free_table(pte_to_pa(l1[j]));
            }
            free_table(l1_pa);
            root[i] = 0;
        }
    }

private:
    struct Leaf {
        uint64_t* slot;
        int level;
    };

    Result<Leaf> find_leaf(uint64_t va) const {
        if (!canonical(va)) return Error::OutOfRange;
        uint64_t* table = Env::table(m_root);
        for (int level = 2; level >= 0; --level) {
            uint64_t* slot = &table[vpn(va, level)];
            if (!(*slot & kPteV)) return Error::NotFound;
            if (*slot & (kPteR | kPteW | kPteX)) return Leaf{slot, level};
            table = Env::table(pte_to_pa(*slot));
        }
        return Error::BadFormat;  // a pointer PTE at level 0 is malformed
    }

    // The PTE slot for `va` at `level`, creating intermediate tables.
    Result<uint64_t*> walk(uint64_t va, int level, bool create) {
        uint64_t* table = Env::table(m_root);
        for (int l = 2; l > level; --l) {
            uint64_t* slot = &table[vpn(va, l)];
            if (*slot & kPteV) {
                if (*slot & (kPteR | kPteW | kPteX)) return Error::Exists;  // a large leaf is in the way
            } else {
                if (!create) return Error::NotFound;
                uint64_t pa = TRY(Env::alloc_table());
                *slot = pa_to_pte(pa) | kPteV;
            }
            table = Env::table(pte_to_pa(*slot));
        }
        return &table[vpn(va, level)];
    }

    uint64_t m_root;
};

// The satp value that turns on this table in Sv39 mode.
constexpr uint64_t satp_for(uint64_t root_pa) { return (8ull << 60) | (root_pa >> 12); }

}  // namespace ringlet::sv39
