// frame_alloc, frame_map, frame_unmap, frame_phys: physical memory, and
// mapping anything that names memory (frames, channels, device registers).
#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/mm/frames.h"
#include "kernel/smp/mailbox.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

// Decode checked the memory cap's budget covers the frames; the pages come
// from the machine's pool (which may still be short) and the new frame cap
// is a child of the memory cap, charged to its budget until it goes.
Result<uint64_t> frame_alloc(CapSpace& caps, Dispatcher& d, const FrameAllocRequest& req) {
    // Every frame cap is physically contiguous: a DMA ring or buffer can use it as is.
    uint64_t pa = TRY(frames().alloc(req.pages));
    __builtin_memset(reinterpret_cast<void*>(arch::phys_to_virt(pa)), 0, req.pages * layout::kPageSize);
    auto cap = caps.draw(table_of(d), req.memory.index, kCapFrame, kRightFrameAll, pa, req.pages * layout::kPageSize);
    if (!cap) {
        (void)frames().free(pa, req.pages);
        return cap.error();
    }
    return *cap;
}

Result<uint64_t> frame_map(Dispatcher& d, const FrameMapRequest& req) {
    CapNode* node = req.cap.node;
    AddressSpace& space = domain_of(d).space;
    TRY(space.map(req.va, node->base, node->size, req.perm));
    node->map_root = space.root();
    node->map_va = req.va;
    return 0;
}

Result<uint64_t> frame_unmap(const CapRequest& req) {
    CapNode* node = req.cap.node;
    TRY(arch::unmap(node->map_root, node->map_va, node->size));
    node->map_root = 0;
    TRY(shootdown_tlbs());
    return 0;
}

}  // namespace

Result<uint64_t> invoke_frame_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysFrameAlloc: return frame_alloc(guard.caps(), d, req.frame_alloc);
    case kSysFrameMap: return frame_map(d, req.frame_map);
    case kSysFrameUnmap: return frame_unmap(req.cap);
    case kSysFramePhys: return req.cap.cap.node->base;
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
