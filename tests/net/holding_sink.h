// A FrameSink that keeps every frame it is given, as an app holding
// zero-copy RX buffers does (the VirtioNic recovery tests).
#pragma once

#include <stdint.h>

#include <vector>

#include "net/netif.h"

namespace ringlet::net::test {

struct HoldingSink final : FrameSink {
    struct Held {
        mem::Buffer* buf;
        uint32_t offset;
        uint32_t len;
    };
    std::vector<Held> held;
    void receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool) override { held.push_back({b, offset, len}); }
};

}  // namespace ringlet::net::test
