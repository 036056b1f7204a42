// The first C++ to run on the boot hart, with the MMU off at our physical
// load address. Only PC-relative code here: no function pointers, no jump
// tables, no absolute addresses (the image is linked at its virtual address).
#include <stdint.h>

#include "arch/riscv64/layout.h"
#include "arch/riscv64/sv39.h"

namespace ringlet {
namespace {

// Root + a few lower-level tables: the kernel window needs one level-1 table.
constexpr int kEarlyTables = 4;
alignas(4096) uint64_t g_early_tables[kEarlyTables][512];
int g_early_used;

struct EarlyEnv {
    static constexpr bool kAllowWriteExec = true;
    static Result<uint64_t> alloc_table() {
        if (g_early_used == kEarlyTables) return Error::OutOfMemory;
        return reinterpret_cast<uint64_t>(g_early_tables[g_early_used++]);  // .bss is already zero
    }
    static uint64_t* table(uint64_t pa) { return reinterpret_cast<uint64_t*>(pa); }
};

}  // namespace
}  // namespace ringlet

extern "C" char __image_start[], __image_end[];

// Builds the early map: the kernel window (2 MiB pages, RWX until the final
// W^X map replaces it) at the load address, and the first 64 GiB of physical
// memory at the direct map (1 GiB pages) so the FDT and the UART can be read.
// Returns the satp value, or 0 when the load address is not 2 MiB-aligned or
// tables run out (head.S then has nothing to turn on; it would fault).
extern "C" __attribute__((section(".text.early"))) uint64_t early_map(uint64_t load_pa) {
    using namespace ringlet;
    if (load_pa % layout::kMegaPage) return 0;
    auto root = sv39::PageTable<EarlyEnv>::create();
    if (!root) return 0;
    // Both symbols are PC-relative, so their difference is right at any address.
    uint64_t size = (static_cast<uint64_t>(__image_end - __image_start) + layout::kMegaPage - 1) & ~(layout::kMegaPage - 1);
    if (!root->map(layout::kKernelBase, load_pa, size, kMapRead | kMapWrite | kMapExec | kMapGlobal, 1)) return 0;
    if (!root->map(layout::kDirectMapBase, 0, 64 * layout::kGigaPage, kMapRead | kMapWrite | kMapGlobal, 2)) return 0;
    return sv39::satp_for(root->root());
}
