#include "kernel/obj/channel_table.h"

namespace ringlet {

// Ids are slot + 1, so 0 never names a channel.
ChannelTable::Channel* ChannelTable::find(uint32_t id) {
    if (id == 0 || id > kMaxChannels || !m_channels[id - 1].in_use) return nullptr;
    return &m_channels[id - 1];
}

Result<uint32_t> ChannelTable::create(uint32_t creator) {
    size_t mine = 0;
    for (const Channel& c : m_channels) mine += c.in_use && c.creator == creator;
    if (mine >= kMaxPerCreator) return Error::Full;
    for (size_t i = 0; i < kMaxChannels; ++i) {
        if (m_channels[i].in_use) continue;
        m_channels[i] = Channel{};
        m_channels[i].in_use = true;
        m_channels[i].creator = creator;
        return static_cast<uint32_t>(i + 1);
    }
    return Error::Full;
}

void ChannelTable::release(uint32_t id) {
    if (Channel* c = find(id)) *c = Channel{};
}

Result<ChannelTable::Bound> ChannelTable::bind(uint32_t id, uint32_t owner, uint32_t bit) {
    Channel* c = find(id);
    if (!c || owner == 0) return Error::BadCapability;
    if (c->ends[0].owner == owner || c->ends[1].owner == owner) return Error::Exists;
    for (uint32_t e = 0; e < 2; ++e) {
        ChannelEnd& end = c->ends[e];
        if (end.owner != 0) continue;
        bool pending = end.pending;
        end.owner = owner;
        end.bit = bit;
        end.pending = false;
        return Bound{e, pending};
    }
    return Error::Busy;
}

Result<ChannelWake> ChannelTable::notify(uint32_t id, uint32_t owner) {
    Channel* c = find(id);
    if (!c) return Error::BadCapability;
    for (uint32_t e = 0; e < 2; ++e) {
        if (c->ends[e].owner != owner || owner == 0) continue;
        ChannelEnd& peer = c->ends[1 - e];
        if (peer.owner == 0) {
            peer.pending = true;
            return ChannelWake{0, 0};
        }
        return ChannelWake{peer.owner, peer.bit};
    }
    return Error::NotFound;
}

void ChannelTable::unbind_owner(uint32_t owner) {
    if (owner == 0) return;
    for (Channel& c : m_channels) {
        if (!c.in_use) continue;
        for (ChannelEnd& end : c.ends)
            if (end.owner == owner) end.owner = 0;
    }
}

size_t ChannelTable::channels_in_use() const {
    size_t n = 0;
    for (const Channel& c : m_channels) n += c.in_use;
    return n;
}

}  // namespace ringlet
