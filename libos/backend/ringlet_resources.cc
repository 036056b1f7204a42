// pdpix::acquire_resources() on Ringlet: the coroutine-frame arena and the
// DMA region are page-aligned arrays in the app's .bss (frames the kernel
// mapped for it at load time). Backends: "loopback" (in-process queues) for
// now; the virtio-net + lwIP backend plugs in here next.
#include <string.h>

#include <new>

#include "libos/backend/loopback.h"
#include "libos/pdpix/resources.h"

namespace ringlet::pdpix {

namespace {
constexpr size_t kFrameBytes = 512u << 10;
constexpr size_t kDmaBytes = 2u << 20;
alignas(4096) unsigned char g_frames[kFrameBytes];
alignas(4096) unsigned char g_dma[kDmaBytes];
alignas(backend::LoopbackBackend) unsigned char g_loopback[sizeof(backend::LoopbackBackend)];
bool g_in_use;
}  // namespace

Result<Resources> acquire_resources(const char* name) {
    if (name == nullptr || name[0] == '\0') name = "loopback";
    if (strcmp(name, "loopback") != 0) return Error::NotFound;
    if (g_in_use) return Error::Busy;
    g_in_use = true;
    Resources r;
    r.backend = new (g_loopback) backend::LoopbackBackend();
    r.frame_arena = g_frames;
    r.frame_bytes = kFrameBytes;
    r.dma_region = g_dma;
    r.dma_bytes = kDmaBytes;
    return r;
}

void release_resources(Resources& r) {
    if (r.backend) r.backend->~Backend();
    g_in_use = false;
    r = Resources{};
}

}  // namespace ringlet::pdpix
