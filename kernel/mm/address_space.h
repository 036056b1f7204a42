// A user address space: an Sv39 table whose lower half (below
// layout::kUserTop) belongs to one app and whose upper half is the kernel's,
// shared by copying the kernel root's upper entries (their lower-level tables
// are the same frames, so kernel mappings made later under them show up
// everywhere).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

class AddressSpace {
public:
    AddressSpace() = default;
    AddressSpace(const AddressSpace&) = delete;
    AddressSpace& operator=(const AddressSpace&) = delete;
    AddressSpace(AddressSpace&& other) : m_root(other.m_root) { other.m_root = 0; }
    AddressSpace& operator=(AddressSpace&& other);
    ~AddressSpace() { release(); }

    // A new, empty user space sharing the kernel half of `kernel_root`.
    static Result<AddressSpace> create(uint64_t kernel_root);

    // Maps user pages; `va` range must lie wholly below kUserTop, page aligned.
    // kMapUser is added; W+X is refused.
    Result<void> map(uint64_t va, uint64_t pa, uint64_t size, uint32_t perm);
    Result<void> unmap(uint64_t va, uint64_t size);

    // The physical address behind user address `va` if the page allows
    // `need` (MapPerm bits) to user mode; BadAddress otherwise.
    Result<uint64_t> translate_user(uint64_t va, uint32_t need) const;

    // Copies between kernel memory and this space's user memory, checking
    // every page; BadAddress (and nothing partially trusted) on any hole.
    Result<void> copy_in(void* dst, uint64_t user_src, size_t size) const;
    Result<void> copy_out(uint64_t user_dst, const void* src, size_t size) const;

    uint64_t root() const { return m_root; }
    bool valid() const { return m_root != 0; }

private:
    explicit AddressSpace(uint64_t root) : m_root(root) {}
    template <typename Fn>
    Result<void> for_each_user_chunk(uint64_t va, size_t size, uint32_t need, Fn fn) const;
    void release();
    uint64_t m_root = 0;
};

}  // namespace ringlet
