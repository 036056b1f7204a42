// The kernel's half of every channel: who is at each end and which
// notification bit wakes them. The rings themselves live in the frame the
// channel cap names and belong to the two apps; the kernel never reads them,
// so nothing an app writes there can hurt the kernel.
//
// One table for the machine, part of the capability objects: it is touched
// only under the CapSpace lock (kernel/cap/cap_syscalls.cc), never on a fast
// path — sending and receiving are plain loads and stores in shared memory.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

struct ChannelEnd {
    uint32_t owner = 0;    // dispatcher id at this end (0: unbound)
    uint32_t bit = 0;      // its notification bit
    bool pending = false;  // notified while unbound: delivered when it binds
};

// Where a notification must go: the dispatcher `owner` and its `bit`.
struct ChannelWake {
    uint32_t owner;
    uint32_t bit;
};

class ChannelTable {
public:
    static constexpr size_t kMaxChannels = 64;
    static constexpr size_t kMaxPerCreator = 16;  // so one app cannot take them all

    // A new channel made by dispatcher `creator`, both ends unbound → its id
    // (never 0). Full if none is free or `creator` already has its share.
    Result<uint32_t> create(uint32_t creator);
    // The channel's last capability went away.
    void release(uint32_t id);

    struct Bound {
        uint32_t end;      // 0 or 1
        bool pending;      // a notification was waiting for this end
    };
    // Dispatcher `owner` takes the first free end, woken on `bit`. Exists if
    // it already holds an end of this channel, Busy if both are taken,
    // BadCapability for an unknown id.
    Result<Bound> bind(uint32_t id, uint32_t owner, uint32_t bit);

    // `owner` notifies its peer: the wake to deliver, or an owner of 0 when
    // the peer has not bound yet (the notification is held for it).
    // NotFound if `owner` is not an end of this channel.
    Result<ChannelWake> notify(uint32_t id, uint32_t owner);

    // Dispatcher `owner` ended: every end it held is free again (a new
    // holder of the channel cap may bind it).
    void unbind_owner(uint32_t owner);

    size_t channels_in_use() const;

private:
    struct Channel {
        bool in_use = false;
        uint32_t creator = 0;
        ChannelEnd ends[2];
    };
    Channel* find(uint32_t id);

    Channel m_channels[kMaxChannels];
};

}  // namespace ringlet
