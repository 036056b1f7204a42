#include "user/kv/alloc.h"

#if defined(RINGLET_FREESTANDING)
#include "user/kv/arena.h"

namespace kv {
namespace {
// 24 MiB of .bss: with the libOS's 4 MiB DMA heap this fits a 256 MiB guest
// comfortably. It bounds the data set on Ringlet (INFO maxmemory).
constexpr size_t kArenaBytes = 24u << 20;
alignas(16) unsigned char g_region[kArenaBytes];
Arena g_arena(g_region, kArenaBytes);
}  // namespace

void* mem_alloc(size_t n) { return g_arena.alloc(n); }
void mem_free(void* p) { g_arena.free(p); }
size_t mem_in_use() { return g_arena.bytes_in_use(); }

}  // namespace kv
#else
#include <stdlib.h>

namespace kv {
namespace {
size_t g_in_use = 0;
constexpr size_t kHeader = 16;  // the block's size, for accounting
}  // namespace

void* mem_alloc(size_t n) {
    auto* p = static_cast<unsigned char*>(malloc(n + kHeader));
    if (p == nullptr) return nullptr;
    *reinterpret_cast<size_t*>(p) = n + kHeader;
    g_in_use += n + kHeader;
    return p + kHeader;
}

void mem_free(void* p) {
    if (p == nullptr) return;
    unsigned char* block = static_cast<unsigned char*>(p) - kHeader;
    g_in_use -= *reinterpret_cast<size_t*>(block);
    free(block);
}

size_t mem_in_use() { return g_in_use; }

}  // namespace kv
#endif
