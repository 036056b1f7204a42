// frame_alloc, frame_map, frame_unmap, frame_phys: physical memory, and
// mapping anything that names memory (frames, channels, device registers).
#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/mm/frames.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/mailbox.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

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
    TRY(shootdown_tlbs(table_member_harts(node->table)));  // where the space is live
    return 0;
}

}  // namespace

Result<ZeroedFrames> ZeroedFrames::take(uint64_t pages) {
    // Every frame cap is physically contiguous: a DMA ring or buffer can use it as is.
    uint64_t pa = TRY(pages == 1 ? alloc_frame() : frames().alloc(pages));
    __builtin_memset(reinterpret_cast<void*>(arch::phys_to_virt(pa)), 0, pages * layout::kPageSize);
    return ZeroedFrames(pa, pages);
}

ZeroedFrames::~ZeroedFrames() {
    if (m_pages) (void)free_frames(m_pa, m_pages);
}

// Decode checked the memory cap's budget covers the frames (under this
// guard: it may have been spent since the frames were taken, and draw
// checks again); the new frame cap is a child of the memory cap, charged to
// its budget until it goes.
Result<uint64_t> invoke_frame_alloc(CapGuard& guard, Dispatcher& d, const FrameAllocRequest& req,
                                    ZeroedFrames& zeroed) {
    assert_tree_locked("invoke_frame_alloc");
    if (zeroed.pages() != req.pages) return Error::InvalidArgument;
    CapIndex cap = TRY(guard.caps().draw(table_of(d), req.memory.index, kCapFrame, kRightFrameAll, zeroed.pa(),
                                         req.pages * layout::kPageSize));
    zeroed.keep();
    return cap;
}

Result<uint64_t> invoke_frame_call(CapGuard&, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysFrameMap: assert_tree_locked("frame_map"); return frame_map(d, req.frame_map);
    case kSysFrameUnmap: assert_tree_locked("frame_unmap"); return frame_unmap(req.cap);
    case kSysFramePhys: return req.cap.cap.node->base;
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
