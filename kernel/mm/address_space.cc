#include "kernel/mm/address_space.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/mm/map_perm.h"

namespace ringlet {
namespace {

bool user_range(uint64_t va, uint64_t size) {
    return size != 0 && va < layout::kUserTop && size <= layout::kUserTop - va;
}

}  // namespace

AddressSpace& AddressSpace::operator=(AddressSpace&& other) {
    if (this != &other) {
        release();
        m_root = other.m_root;
        other.m_root = 0;
    }
    return *this;
}

void AddressSpace::release() {
    if (m_root) arch::free_user_page_table(m_root);
    m_root = 0;
}

Result<AddressSpace> AddressSpace::create(uint64_t kernel_root) {
    return AddressSpace(TRY(arch::new_user_page_table(kernel_root)));
}

Result<void> AddressSpace::map(uint64_t va, uint64_t pa, uint64_t size, uint32_t perm) {
    if (!user_range(va, size)) return Error::BadAddress;
    if (perm & kMapGlobal) return Error::InvalidArgument;
    return arch::map(m_root, va, pa, size, perm | kMapUser);
}

Result<void> AddressSpace::unmap(uint64_t va, uint64_t size) {
    if (!user_range(va, size)) return Error::BadAddress;
    TRY(arch::unmap(m_root, va, size));
    arch::flush_tlb();
    return {};
}

Result<uint64_t> AddressSpace::translate_user(uint64_t va, uint32_t need) const {
    if (va >= layout::kUserTop) return Error::BadAddress;
    auto m = arch::translate(m_root, va);
    if (!m) return Error::BadAddress;
    if (!(m->perm & kMapUser) || (m->perm & need) != need) return Error::BadAddress;
    return m->pa;
}

// Calls fn(kernel_pointer, offset, chunk) for each page-bounded piece of the
// user range [va, va+size), after checking that every page allows `need`:
// a failure leaves nothing half-copied.
template <typename Fn>
Result<void> AddressSpace::for_each_user_chunk(uint64_t va, size_t size, uint32_t need, Fn fn) const {
    if (size == 0) return {};
    if (!user_range(va, size)) return Error::BadAddress;
    for (uint64_t page = va & ~(layout::kPageSize - 1); page < va + size; page += layout::kPageSize)
        TRY(translate_user(page, need));
    size_t done = 0;
    while (done < size) {
        uint64_t at = va + done;
        size_t chunk = layout::kPageSize - (at & (layout::kPageSize - 1));
        if (chunk > size - done) chunk = size - done;
        uint64_t pa = TRY(translate_user(at, need));
        fn(reinterpret_cast<unsigned char*>(arch::phys_to_virt(pa)), done, chunk);
        done += chunk;
    }
    return {};
}

Result<void> AddressSpace::copy_in(void* dst, uint64_t user_src, size_t size) const {
    auto* out = static_cast<unsigned char*>(dst);
    return for_each_user_chunk(user_src, size, kMapRead, [&](unsigned char* user, size_t offset, size_t chunk) {
        __builtin_memcpy(out + offset, user, chunk);
    });
}

Result<void> AddressSpace::copy_out(uint64_t user_dst, const void* src, size_t size) const {
    auto* in = static_cast<const unsigned char*>(src);
    return for_each_user_chunk(user_dst, size, kMapWrite, [&](unsigned char* user, size_t offset, size_t chunk) {
        __builtin_memcpy(user, in + offset, chunk);
    });
}

}  // namespace ringlet
