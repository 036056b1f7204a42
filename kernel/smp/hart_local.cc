#include "kernel/smp/hart_local.h"

#include "kernel/arch.h"
#include "kernel/mm/frames.h"

namespace ringlet {

Result<uint64_t> alloc_frame() {
    HartLocal* local = arch::hart_local();
    return local ? local->frame_cache.alloc(frames()) : frames().alloc(1);
}

Result<void> free_frames(uint64_t pa, size_t count) {
    HartLocal* local = arch::hart_local();
    if (count == 1 && local) return local->frame_cache.free(frames(), pa);
    return frames().free(pa, count);
}

size_t current_hart_index() {
    HartLocal* local = arch::hart_local();
    return local ? local->index : 0;
}

}  // namespace ringlet
