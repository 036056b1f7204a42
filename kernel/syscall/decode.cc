#include "kernel/syscall/decode.h"

#include "kernel/cap/boot_caps.h"
#include "kernel/mm/map_perm.h"

namespace ringlet {

static_assert(uint64_t{kUserMapRead} == kMapRead && uint64_t{kUserMapWrite} == kMapWrite &&
                  uint64_t{kUserMapExec} == kMapExec,
              "the ABI's frame_map permissions must be the kernel's MapPerm bits");
static_assert(kSysCount == 19, "a new syscall needs a decoder case below");

Result<void> UserMemory::copy_in(void*, uint64_t, size_t) const { return Error::BadAddress; }
Result<void> UserMemory::check_writable(uint64_t, size_t) const { return Error::BadAddress; }

Result<void> check_user_range(uint64_t addr, uint64_t size, uint64_t user_top) {
    if (addr < kUserPageSize || addr >= user_top) return Error::BadAddress;
    if (size > user_top - addr) return Error::BadAddress;  // also catches addr + size wrapping
    return ok();
}

namespace {

// The capability named by `index`, of `type` (kCapNull: any) with `rights`.
Result<CheckedCap> checked_cap(const DecodeContext& ctx, uint64_t index, uint8_t type, uint32_t rights) {
    CapNode* node = TRY(ctx.caps->lookup(ctx.table, index, type, rights));
    return CheckedCap{index, node};
}

// Frames, devices and channels (whose rings are a frame) name mappable memory.
Result<CheckedCap> mappable_cap(const DecodeContext& ctx, uint64_t index, uint32_t rights) {
    CheckedCap cap = TRY(checked_cap(ctx, index, kCapNull, 0));
    if (cap.node->type != kCapFrame && cap.node->type != kCapDevice && cap.node->type != kCapChannel)
        return Error::WrongType;
    if ((cap.node->rights & rights) != rights) return Error::NoRights;
    return cap;
}

Result<void> copy_in_user(const DecodeContext& ctx, void* dst, uint64_t src, uint64_t len) {
    if (len == 0) return ok();
    TRY(check_user_range(src, len, ctx.user_top));
    return ctx.memory->copy_in(dst, src, len);
}

Result<void> decode_mint(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    TRY(unused_from(args, 4));
    if (args.a[1] & ~uint64_t{kRightAll}) return Error::InvalidArgument;
    // Minting needs Grant on the parent (CapSpace::mint's rule, checked early).
    CheckedCap cap = TRY(checked_cap(ctx, args.a[0], kCapNull, kRightGrant));
    const uint64_t budget = args.a[3];
    if (budget != 0) {
        if (cap.node->type != kCapMemory || budget % kUserPageSize) return Error::InvalidArgument;
        // A child never gets more than its parent has left.
        if (budget > ctx.caps->budget_left(*cap.node)) return Error::OutOfMemory;
    }
    CheckedCap target{0, nullptr};
    if (args.a[2] != 0) target = TRY(checked_cap(ctx, args.a[2], kCapDispatcher, kRightGrant));
    req.mint = CapMintRequest{cap, static_cast<uint32_t>(args.a[1]), target, budget};
    return ok();
}

Result<void> decode_frame_alloc(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    TRY(unused_from(args, 3));
    const uint64_t pages = args.a[1];
    if (pages == 0 || pages > kMaxFrameAllocPages) return Error::InvalidArgument;
    if (args.a[2] & ~uint64_t{kFrameContiguous}) return Error::InvalidArgument;
    // Memory comes only from a budget the caller holds.
    CheckedCap memory = TRY(checked_cap(ctx, args.a[0], kCapMemory, kRightAlloc));
    if (pages * kUserPageSize > ctx.caps->budget_left(*memory.node)) return Error::OutOfMemory;
    req.frame_alloc = FrameAllocRequest{memory, pages, static_cast<uint32_t>(args.a[2])};
    return ok();
}

Result<void> decode_frame_map(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    TRY(unused_from(args, 3));
    const uint64_t va = args.a[1];
    const uint64_t perm = args.a[2];
    constexpr uint64_t kKnown = kUserMapRead | kUserMapWrite | kUserMapExec;
    if (perm & ~kKnown) return Error::InvalidArgument;
    if (!(perm & (kUserMapRead | kUserMapWrite))) return Error::InvalidArgument;  // no exec-only pages
    if ((perm & kUserMapWrite) && (perm & kUserMapExec)) return Error::InvalidArgument;  // W^X
    if (va % kUserPageSize) return Error::InvalidArgument;
    const uint32_t need = kRightMap | ((perm & kUserMapRead) ? kRightRead : 0u) |
                          ((perm & kUserMapWrite) ? kRightWrite : 0u) | ((perm & kUserMapExec) ? kRightExec : 0u);
    CheckedCap cap = TRY(mappable_cap(ctx, args.a[0], need));
    if (cap.node->type == kCapDevice && (perm & kUserMapExec)) return Error::InvalidArgument;  // never run MMIO
    TRY(check_user_range(va, cap.node->size, ctx.user_top));
    if (cap.node->map_root) return Error::Busy;  // one mapping per cap: mint another to map twice
    req.frame_map = FrameMapRequest{cap, va, static_cast<uint32_t>(perm)};
    return ok();
}

Result<void> decode_frame_unmap(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    TRY(unused_from(args, 2));
    CheckedCap cap = TRY(mappable_cap(ctx, args.a[0], 0));
    if (!cap.node->map_root) return Error::NotFound;
    // a1 may name the mapping's address (the ABI) or be 0 (a cap maps once,
    // so the cap alone identifies it); any other address names no mapping.
    if (args.a[1] != 0 && args.a[1] != cap.node->map_va) return Error::NotFound;
    req.cap = CapRequest{cap};
    return ok();
}

Result<void> decode_channel_create(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    TRY(unused_from(args, 1));
    // Both parties map the ring frame read-write; at least a page per direction.
    CheckedCap frame = TRY(checked_cap(ctx, args.a[0], kCapFrame, kRightRead | kRightWrite | kRightMap));
    if (frame.node->size < 2 * kUserPageSize) return Error::InvalidArgument;
    req.channel_create = ChannelCreateRequest{frame};
    return ok();
}

// irq_control and channel_control share their shape: a1 = 1 binds to
// notification bit a2; a1 = 0 is the other operation (a2 must be 0). True
// for a bind.
Result<bool> decode_bind_or_signal(const SyscallArgs& args) {
    TRY(unused_from(args, 3));
    if (args.a[1] == 1) {
        if (args.a[2] >= kNotificationBits) return Error::InvalidArgument;
        return true;
    }
    if (args.a[1] != 0 || args.a[2] != 0) return Error::InvalidArgument;
    return false;
}

Result<void> decode_channel_control(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    const bool bind = TRY(decode_bind_or_signal(args));
    CheckedCap channel = TRY(checked_cap(ctx, args.a[0], kCapChannel, 0));
    req.channel = ChannelControlRequest{channel, bind ? ChannelOp::Bind : ChannelOp::Notify,
                                        static_cast<uint32_t>(args.a[2])};
    return ok();
}

Result<void> decode_irq_control(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    const bool bind = TRY(decode_bind_or_signal(args));
    CheckedCap device = TRY(checked_cap(ctx, args.a[0], kCapDevice, 0));
    req.irq = IrqControlRequest{device, bind ? IrqOp::Bind : IrqOp::Ack, static_cast<uint32_t>(args.a[2])};
    return ok();
}

// a0 image cap, a1/a2 start line, a3 hart cap, a4/a5 gift list.
Result<void> decode_dispatcher_start(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    DispatcherStartRequest& out = req.dispatcher_start;
    const uint64_t len = args.a[2];
    if (len == 0 || len > kMaxStartLine) return Error::InvalidArgument;
    const uint64_t gift_count = args.a[5];
    if (gift_count > kMaxStartGifts || (gift_count == 0 && args.a[4] != 0)) return Error::InvalidArgument;
    TRY(checked_cap(ctx, args.a[0], kCapImage, kRightExec));  // the right to start apps from the initrd
    const uint32_t hart = TRY(hart_from_cap(*ctx.caps, ctx.table, args.a[3]));
    if (hart >= ctx.hart_count) return Error::InvalidArgument;
    TRY(copy_in_user(ctx, out.gifts, args.a[4], gift_count * sizeof(StartGift)));
    for (uint64_t i = 0; i < gift_count; ++i) {
        const StartGift& g = out.gifts[i];
        if (g.reserved != 0 || (g.rights & ~uint32_t{kRightAll})) return Error::InvalidArgument;
        TRY(checked_cap(ctx, g.cap, kCapNull, kRightGrant));
    }
    TRY(copy_in_user(ctx, out.line, args.a[1], len));
    // The name is looked up in the initrd as given; a NUL inside the line
    // could make the kernel and the archive disagree on what was asked for.
    size_t name_len = 0;
    while (name_len < len && out.line[name_len] != ' ') ++name_len;
    if (name_len == 0) return Error::InvalidArgument;
    for (size_t i = 0; i < len; ++i)
        if (out.line[i] == '\0') return Error::InvalidArgument;
    out.line_len = len;
    out.name_len = name_len;
    out.hart = hart;
    out.gift_count = static_cast<uint32_t>(gift_count);
    return ok();
}

// The new dispatcher's pc, stack and tp must lie in the user half (the
// stack 16-byte aligned, as the psABI wants at a call); its argument is the
// app's business.
Result<void> decode_dispatcher_span(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req) {
    TRY(unused_from(args, 5));
    const uint32_t hart = TRY(hart_from_cap(*ctx.caps, ctx.table, args.a[0]));  // the authority: Run there
    const uint64_t entry = args.a[1], sp = args.a[2], tp = args.a[3];
    if (entry == 0 || entry >= ctx.user_top || (entry & 1)) return Error::BadAddress;
    if (sp == 0 || sp > ctx.user_top || (sp & 15)) return Error::BadAddress;
    if (tp >= ctx.user_top) return Error::BadAddress;
    req.dispatcher_span = DispatcherSpanRequest{hart, entry, sp, tp, args.a[4]};
    return ok();
}

// Calls that take one capability and nothing else.
Result<void> decode_single_cap(const SyscallArgs& args, const DecodeContext& ctx, SyscallRequest& req, uint8_t type,
                               uint32_t rights) {
    TRY(unused_from(args, 1));
    CheckedCap cap = TRY(type == kCapFrame ? mappable_cap(ctx, args.a[0], rights)
                                           : checked_cap(ctx, args.a[0], type, rights));
    req.cap = CapRequest{cap};
    return ok();
}

}  // namespace

Result<void> decode_debug_print(const SyscallArgs& args, const UserMemory& memory, uint64_t user_top,
                                DebugPrintRequest& out) {
    TRY(unused_from(args, 2));
    const uint64_t len = args.a[0];
    if (len > kMaxDebugPrint) return Error::InvalidArgument;
    out.len = len;
    if (len == 0) return ok();
    TRY(check_user_range(args.a[1], len, user_top));
    return memory.copy_in(out.text, args.a[1], len);
}

Result<UpcallRequest> decode_upcall(const SyscallArgs& args, const UserMemory& memory, uint64_t user_top) {
    const uint64_t op = args.a[0];
    if (op == kUpcallReturn || op == kUpcallDisarm) {
        TRY(unused_from(args, 1));
        return UpcallRequest{op, 0, 0, 0, 0};
    }
    if (op != kUpcallArm) return Error::InvalidArgument;
    TRY(unused_from(args, 5));
    const UpcallRequest req{op, args.a[1], args.a[2], args.a[3], args.a[4]};
    if (req.stack_top % 16 != 0 || req.area % 8 != 0) return Error::InvalidArgument;
    if (req.period == 0 || req.period >= (1ull << 40)) return Error::InvalidArgument;
    TRY(check_user_range(req.entry, 4, user_top));
    // The stack grows down from its top: its last word must be user memory.
    if (req.stack_top < 16) return Error::BadAddress;
    TRY(check_user_range(req.stack_top - 16, 16, user_top));
    TRY(check_user_range(req.area, sizeof(UpcallArea), user_top));
    TRY(memory.check_writable(req.area, sizeof(UpcallArea)));
    return req;
}

Result<SyscallRequest> decode_syscall(const SyscallArgs& args, const DecodeContext& ctx) {
    if (args.number >= kSysCount) return Error::Unsupported;
    SyscallRequest req;
    __builtin_memset(&req, 0, sizeof req);
    req.number = static_cast<SyscallNumber>(args.number);
    switch (req.number) {
    case kSysDebugPrint: TRY(decode_debug_print(args, *ctx.memory, ctx.user_top, req.debug_print)); break;
    case kSysExit: req.exit = TRY(decode_exit(args)); break;
    case kSysWait: req.wait = TRY(decode_wait(args)); break;
    case kSysUpcall: req.upcall = TRY(decode_upcall(args, *ctx.memory, ctx.user_top)); break;
    case kSysCapIdentify:
    case kSysCapDelete:
    case kSysCapRevoke: TRY(decode_single_cap(args, ctx, req, kCapNull, 0)); break;
    case kSysCapMint: TRY(decode_mint(args, ctx, req)); break;
    case kSysFrameAlloc: TRY(decode_frame_alloc(args, ctx, req)); break;
    case kSysFrameMap: TRY(decode_frame_map(args, ctx, req)); break;
    case kSysFrameUnmap: TRY(decode_frame_unmap(args, ctx, req)); break;
    // A device's physical address is its MMIO base: as mappable as a frame.
    case kSysFramePhys: TRY(decode_single_cap(args, ctx, req, kCapFrame, kRightDma)); break;
    case kSysChannelCreate: TRY(decode_channel_create(args, ctx, req)); break;
    case kSysChannelControl: TRY(decode_channel_control(args, ctx, req)); break;
    case kSysRetired13: return Error::Unsupported;  // device_claim: devices are capabilities now
    case kSysIrqControl: TRY(decode_irq_control(args, ctx, req)); break;
    case kSysDispatcherStart: TRY(decode_dispatcher_start(args, ctx, req)); break;
    case kSysDispatcherSpan: TRY(decode_dispatcher_span(args, ctx, req)); break;
    case kSysAppHarts: TRY(unused_from(args, 0)); break;
    case kSysCount: return Error::Unsupported;
    }
    return req;
}

}  // namespace ringlet
