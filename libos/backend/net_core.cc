// The entry point of one copy of the network stack (net_core.h). Compiled
// into every copy: its globals here are that copy's alone.
#include "libos/backend/net_core.h"

#include <new>

#include "net/lwip/sys_glue.h"
#include "net/lwip_backend.h"

extern "C" {
// This copy's lwIP heap (lwipopts.h: LWIP_RAM_HEAP_POINTER), set before
// lwIP initialises.
unsigned char* ringlet_lwip_ram_heap = nullptr;
}

namespace {

// The backend, in place: no heap on the target.
struct CoreBackend {
    explicit CoreBackend(ringlet::rt::Platform& p) : backend(p) {}
    ringlet::net::LwipBackend backend;
};
alignas(CoreBackend) unsigned char g_backend[sizeof(CoreBackend)];

}  // namespace

extern "C" int ringlet_net_core_open(const ringlet::backend::NetCoreConfig* cfg, ringlet::pdpix::Backend** out) {
    using ringlet::Error;
    if (cfg == nullptr || cfg->platform == nullptr || cfg->nic == nullptr || cfg->lwip_heap == nullptr) {
        return static_cast<int>(Error::InvalidArgument);
    }
    // The caller (ringlet_resources.cc) opens a copy only for its own core
    // and after the previous backend's destructor ran, so the storage is
    // free; lwIP itself stays initialised (lwip_init runs once per copy),
    // and LwipBackend::start refuses a second running backend (Busy).
    if (ringlet_lwip_ram_heap == nullptr) ringlet_lwip_ram_heap = static_cast<unsigned char*>(cfg->lwip_heap);
    if (cfg->report != nullptr) ringlet::net::set_report_hook(cfg->report);
    auto* core = new (g_backend) CoreBackend(*cfg->platform);
    if (auto r = core->backend.add_interface(*cfg->nic, cfg->ip); !r) {
        core->~CoreBackend();
        return static_cast<int>(r.error());
    }
    *out = &core->backend;
    return 0;
}
