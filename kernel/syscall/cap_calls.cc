// cap_identify, cap_mint, cap_delete, cap_revoke: the derivation tree itself.
#include "arch/riscv64/layout.h"
#include "kernel/sched/dispatch.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

// The app a dispatcher cap names, if it can still receive capabilities.
Result<Dispatcher*> receiving_app(const CapNode& dispatcher_cap) {
    Dispatcher* d = find_dispatcher(dispatcher_cap.object);
    if (!d || d->caps_closed) return Error::BadCapability;  // it has ended
    return d;
}

// type | rights << 8 | info << 32 (syscall_abi.h says what info is per type).
uint64_t cap_identify(const CapSpace& caps, const CapNode& node) {
    uint64_t info = node.size / layout::kPageSize;
    if (node.type == kCapMemory) info = caps.budget_left(node) / layout::kPageSize;
    else if (node.type == kCapHart) info = node.object;
    else if (node.type == kCapDispatcher) info = receiving_app(node).ok() ? 1 : 0;
    return static_cast<uint64_t>(node.type) | static_cast<uint64_t>(node.rights) << 8 | info << 32;
}

Result<uint64_t> cap_mint(CapSpace& caps, Dispatcher& d, const CapMintRequest& req) {
    uint16_t to = table_of(d);
    if (req.target.node) to = table_of(*TRY(receiving_app(*req.target.node)));
    return caps.grant(table_of(d), req.cap.index, to, req.rights, req.budget);
}

Result<uint64_t> cap_delete(CapSpace& caps, Dispatcher& d, const CapRequest& req) {
    TRY(caps.remove(table_of(d), req.cap.index));
    return 0;
}

}  // namespace

Result<uint64_t> invoke_cap_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    CapSpace& caps = guard.caps();
    switch (req.number) {
    case kSysCapIdentify: return cap_identify(caps, *req.cap.cap.node);
    case kSysCapMint: return cap_mint(caps, d, req.mint);
    case kSysCapDelete: return cap_delete(caps, d, req.cap);
    case kSysCapRevoke: TRY(caps.revoke(table_of(d), req.cap.cap.index)); return 0;
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
