// The entry points of the network stack's per-core copies (net_core.h):
// copy i's symbols carry the prefix rnc<i>_ (net/make_core_copies.sh).
#include "libos/backend/net_core.h"
#include "net/lwip/sys_glue.h"
#include "user/rt/syscall.h"

#define RINGLET_NET_CORE_ENTRY(i)                                                                             \
    extern "C" int rnc##i##_ringlet_net_core_open(const ringlet::backend::NetCoreConfig* cfg,               \
                                                   ringlet::pdpix::Backend** out);
RINGLET_NET_CORE_ENTRY(0)
RINGLET_NET_CORE_ENTRY(1)
RINGLET_NET_CORE_ENTRY(2)
RINGLET_NET_CORE_ENTRY(3)
#undef RINGLET_NET_CORE_ENTRY

namespace ringlet::backend {
namespace {
using Entry = int (*)(const NetCoreConfig*, pdpix::Backend**);
constexpr Entry kEntries[] = {rnc0_ringlet_net_core_open, rnc1_ringlet_net_core_open, rnc2_ringlet_net_core_open,
                              rnc3_ringlet_net_core_open};
static_assert(sizeof kEntries / sizeof kEntries[0] == kNetCores, "one entry per copy (net/CMakeLists.txt)");
}  // namespace

Result<pdpix::Backend*> open_net_core(uint32_t index, const NetCoreConfig& cfg) {
    if (index >= kNetCores) return Error::OutOfRange;
    pdpix::Backend* out = nullptr;
    const int e = kEntries[index](&cfg, &out);
    if (e != 0) return static_cast<Error>(e);
    return out;
}

}  // namespace ringlet::backend

// The NIC adapter (net/virtio_nic*.cc) is linked once and shared by every
// core's copy of the stack, so its console lines (a device reset) cannot go
// through a copy's report hook (each copy renames its own): they go straight
// to the console.
namespace ringlet::net {
void report(const char* message) { user::printf("%s\n", message); }
}  // namespace ringlet::net
