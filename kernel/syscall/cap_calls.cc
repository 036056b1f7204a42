// cap_identify, cap_mint, cap_delete, cap_revoke: the derivation tree itself.
#include "arch/riscv64/layout.h"
#include "kernel/sched/dispatch.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

uint64_t cap_identify(const CapNode& node) {
    return static_cast<uint64_t>(node.type) | static_cast<uint64_t>(node.rights) << 8 |
           (node.size / layout::kPageSize) << 32;
}

// The app a dispatcher cap names, if it can still receive capabilities.
Result<Dispatcher*> receiving_app(const CapNode& dispatcher_cap) {
    Dispatcher* d = find_dispatcher(dispatcher_cap.object);
    if (!d || d->caps_closed) return Error::BadCapability;  // it has ended
    return d;
}

Result<uint64_t> cap_mint(CapSpace& caps, Dispatcher& d, const CapMintRequest& req) {
    if (!req.target.node) return caps.mint(table_of(d), req.cap.index, req.rights);
    Dispatcher* to = TRY(receiving_app(*req.target.node));
    return caps.grant(table_of(d), req.cap.index, table_of(*to), req.rights);
}

Result<uint64_t> cap_delete(CapSpace& caps, Dispatcher& d, const CapRequest& req) {
    const CapNode* node = req.cap.node;
    if (node->owns_object && node->type == kCapFrame) domain_of(d).frames_used -= node->size / layout::kPageSize;
    TRY(caps.remove(table_of(d), req.cap.index));
    return 0;
}

}  // namespace

Result<uint64_t> invoke_cap_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    CapSpace& caps = guard.caps();
    switch (req.number) {
    case kSysCapIdentify: return cap_identify(*req.cap.cap.node);
    case kSysCapMint: return cap_mint(caps, d, req.mint);
    case kSysCapDelete: return cap_delete(caps, d, req.cap);
    case kSysCapRevoke: TRY(caps.revoke(table_of(d), req.cap.cap.index)); return 0;
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
