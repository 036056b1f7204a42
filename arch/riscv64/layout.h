// Ringlet's Sv39 virtual memory layout. Upper half only; the lower half
// (below 0x0000004000000000) belongs to user address spaces.
//
//   0xffffffc000000000  direct map of physical memory (VA = base + PA), RW, NX
//   0xffffffff80000000  per-hart kernel stacks, each under an unmapped guard page
//   0xffffffffc0200000  the kernel image (linked here, loaded anywhere 2 MiB-aligned)
#pragma once

#include <stdint.h>

namespace ringlet::layout {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kMegaPage = 2ull << 20;
inline constexpr uint64_t kGigaPage = 1ull << 30;

inline constexpr uint64_t kDirectMapBase = 0xffffffc000000000ull;
inline constexpr uint64_t kDirectMapSize = 0x3f80000000ull;  // 254 GiB, up to the stack area
inline constexpr uint64_t kStackAreaBase = 0xffffffff80000000ull;
inline constexpr uint64_t kKernelWindow = 0xffffffffc0000000ull;
inline constexpr uint64_t kKernelBase = 0xffffffffc0200000ull;  // == linker.ld's address

inline constexpr uint64_t kKernelStackSize = 16 * 1024;
inline constexpr uint64_t kStackSlot = kKernelStackSize + kPageSize;  // guard page below each stack

inline constexpr uint64_t kUserTop = 0x0000004000000000ull;  // first non-user address

inline uint64_t phys_to_virt(uint64_t pa) { return kDirectMapBase + pa; }
inline uint64_t virt_to_phys(uint64_t va) { return va - kDirectMapBase; }

}  // namespace ringlet::layout
