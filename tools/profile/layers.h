// Layers: which part of the system a function belongs to, for the per-layer
// summary. Decided by the module first (every kernel-ELF symbol, and any
// S- or M-mode instruction, is the kernel); then libc names (memcpy, ...);
// then the C++ namespace (ringlet::virtio, ::net, ::pdpix, ::rt), because a
// template or inline function is compiled into whichever unit uses it; then
// the source file the function was compiled from (its DWARF compile unit);
// last, for code without debug information, lwIP and libgcc names.
#pragma once

#include <array>
#include <string_view>

#include "symbols.h"

namespace ringlet::profile {

enum class Layer {
    Driver,      // drivers/virtio
    Lwip,        // lwIP itself (third_party/lwip) and its port (net/lwip)
    NetGlue,     // net/: Ringlet's queues, netif and pbufs around lwIP
    Pdpix,       // libos/pdpix
    Executor,    // libos/rt: executor, tasks, timers
    LibosOther,  // the rest of libos/ and the app runtime (user/rt)
    App,         // user/<app>
    Libc,        // memcpy, memset, ..., libgcc helpers
    Kernel,      // the kernel ELF, S-mode and M-mode (OpenSBI)
    Unknown,
};
inline constexpr size_t kLayerCount = static_cast<size_t>(Layer::Unknown) + 1;

// Short name for tables ("driver", "lwip", ...).
std::string_view layer_name(Layer l);
// What a layer holds, for the table's legend.
std::string_view layer_description(Layer l);

// The layer of one symbol of the table.
Layer classify(const Symbol& s);

}  // namespace ringlet::profile
