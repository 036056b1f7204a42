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

// receiving_app's caps_closed is set under the derivation lock (release_caps).
Result<uint64_t> cap_mint(CapGuard& guard, Dispatcher& d, const CapMintRequest& req) {
    assert_tree_locked("cap_mint");
    uint16_t to = table_of(d);
    if (req.target.node) {
        to = table_of(*TRY(receiving_app(*req.target.node)));
        guard.also_lock(to);
    }
    return guard.caps().grant(table_of(d), req.cap.index, to, req.rights, req.budget);
}

// delete and revoke reach into every table holding a descendant.
Result<uint64_t> cap_delete(CapGuard& guard, Dispatcher& d, const CapRequest& req) {
    assert_tree_locked("cap_delete");
    TRY(guard.lock_tables_under(table_of(d), req.cap.index));
    TRY(guard.caps().remove(table_of(d), req.cap.index));
    return 0;
}

Result<uint64_t> cap_revoke(CapGuard& guard, Dispatcher& d, const CapRequest& req) {
    assert_tree_locked("cap_revoke");
    TRY(guard.lock_tables_under(table_of(d), req.cap.index));
    TRY(guard.caps().revoke(table_of(d), req.cap.index));
    return 0;
}

}  // namespace

Result<uint64_t> invoke_cap_call(CapGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysCapIdentify: return cap_identify(guard.caps(), *req.cap.cap.node);
    case kSysCapMint: return cap_mint(guard, d, req.mint);
    case kSysCapDelete: return cap_delete(guard, d, req.cap);
    case kSysCapRevoke: return cap_revoke(guard, d, req.cap);
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
