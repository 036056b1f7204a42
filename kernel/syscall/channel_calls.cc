// channel_create, channel_control: a frame becomes a channel; its ends bind
// to notification bits and notify each other.
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "kernel/smp/mailbox.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

Result<uint64_t> channel_create(CapGuard& guard, Dispatcher& d, const ChannelCreateRequest& req) {
    assert_tree_locked("channel_create");
    uint32_t id = TRY(channels()->create(d.id));
    auto cap = guard.caps().derive_object(table_of(d), req.frame.index, kCapChannel,
                                          kRightRead | kRightWrite | kRightMap | kRightGrant, id);
    if (!cap) channels()->release(id);
    return cap;
}

// Raises `bit` of dispatcher `id`: directly if it lives on this hart (it is
// not running: this hart is in a syscall), else by message to its hart.
// Only the caller's table is locked, so `to` may be ending on another hart
// meanwhile: its slot stays (the pool is static) and both ways check its id.
Result<void> deliver(uint32_t id, uint32_t bit) {
    Dispatcher* to = find_dispatcher(id);
    if (!to || to->caps_closed) return {};  // ending: nobody to wake
    if (to->hart_index == current_hart_index()) {
        notify_dispatcher(to, id, bit);
        return {};
    }
    return send_to_hart(to->hart_index, HartMessageType::Notify, reinterpret_cast<uint64_t>(to),
                        static_cast<uint64_t>(id) << 8 | bit);
}

Result<uint64_t> channel_control(Dispatcher& d, const ChannelControlRequest& req) {
    const uint32_t channel = req.channel.node->object;
    if (req.op == ChannelOp::Bind) {
        ChannelTable::Bound bound = TRY(channels()->bind(channel, d.id, req.bit));
        if (bound.pending) d.notifications |= 1ull << req.bit;
        return bound.end;
    }
    ChannelWake wake = TRY(channels()->notify(channel, d.id));
    if (wake.owner) TRY(deliver(wake.owner, wake.bit));
    return 0;
}

}  // namespace

Result<uint64_t> invoke_channel_call(CapGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysChannelCreate: return channel_create(guard, d, req.channel_create);
    case kSysChannelControl: return channel_control(d, req.channel);
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
