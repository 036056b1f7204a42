#include "kernel/mm/memory_map.h"

namespace ringlet {
namespace {
constexpr uint64_t kPage = 4096;

Result<void> push(PhysRange* out, size_t& n, size_t max_out, uint64_t base, uint64_t end) {
    base = (base + kPage - 1) & ~(kPage - 1);
    end &= ~(kPage - 1);
    if (end <= base) return {};
    if (n == max_out) return Error::Full;
    out[n++] = PhysRange{base, end - base};
    return {};
}
}  // namespace

Result<size_t> subtract_reserved(const PhysRange* ram, size_t ram_count, const PhysRange* reserved,
                                 size_t reserved_count, PhysRange* out, size_t max_out) {
    for (size_t i = 0; i < ram_count; ++i)
        if (ram[i].base + ram[i].size < ram[i].base) return Error::InvalidArgument;
    for (size_t i = 0; i < reserved_count; ++i)
        if (reserved[i].base + reserved[i].size < reserved[i].base) return Error::InvalidArgument;

    size_t n = 0;
    for (size_t r = 0; r < ram_count; ++r) {
        // Walk the RAM range left to right; at each step, the next reserved
        // range that starts at or after `cursor`'s region ends a piece.
        uint64_t cursor = ram[r].base;
        const uint64_t end = ram[r].end();
        while (cursor < end) {
            uint64_t piece_end = end;
            bool moved = false;
            for (size_t k = 0; k < reserved_count; ++k) {
                const PhysRange& res = reserved[k];
                if (res.size == 0) continue;
                if (res.base <= cursor && res.end() > cursor) {  // cursor is inside a reservation: skip it
                    cursor = res.end();
                    moved = true;
                    break;
                }
                if (res.base > cursor && res.base < piece_end) piece_end = res.base;
            }
            if (moved) continue;
            TRY(push(out, n, max_out, cursor, piece_end));
            cursor = piece_end;
        }
    }
    // Sort by base (insertion sort: a handful of ranges).
    for (size_t i = 1; i < n; ++i) {
        PhysRange v = out[i];
        size_t j = i;
        while (j > 0 && out[j - 1].base > v.base) out[j] = out[j - 1], --j;
        out[j] = v;
    }
    return n;
}

}  // namespace ringlet
