// Host implementation of pdpix::acquire_resources(): mmap for frames and DMA
// buffers, and the backend named by demi_init, RINGLET_BACKEND or "linux".
// The future `ringlet` backend gets its own implementation of this file.
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libos/backend/host_disk.h"
#include "libos/backend/linux_sockets.h"
#include "libos/backend/loopback.h"
#include "libos/pdpix/resources.h"

namespace ringlet::pdpix {

namespace {
constexpr size_t kFrameBytes = 16u << 20;  // coroutine frames
constexpr size_t kDmaBytes = 64u << 20;    // I/O buffers (touched lazily)

// A host thread stands for a core: each gets the next core index the first
// time it initialises a libOS, and keeps it.
uint32_t g_next_core;
thread_local int64_t t_core = -1;

uint32_t this_core() {
    if (t_core < 0) t_core = __atomic_fetch_add(&g_next_core, 1, __ATOMIC_RELAXED);
    return static_cast<uint32_t>(t_core);
}

void* map(size_t n) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}
}  // namespace

Result<Resources> acquire_resources(const char* name) {
    if (name == nullptr) name = getenv("RINGLET_BACKEND");
    if (name == nullptr || name[0] == '\0') name = "linux";
    Resources r;
    r.core = this_core();
    if (strcmp(name, "loopback") == 0) {
        r.backend = new backend::LoopbackBackend();
    } else if (strcmp(name, "linux") == 0) {
        r.backend = TRY(backend::LinuxBackend::create());
    } else {
        return Error::NotFound;
    }
    r.frame_arena = map(kFrameBytes);
    r.dma_region = map(kDmaBytes);
    if (r.frame_arena == nullptr || r.dma_region == nullptr) {
        release_resources(r);
        return Error::OutOfMemory;
    }
    r.frame_bytes = kFrameBytes;
    r.dma_bytes = kDmaBytes;
    r.storage = backend::HostDisk::from_env();  // RINGLET_DISK=PATH: a file as the block device
    return r;
}

// Host threads share no device: any of them closes whenever it likes.
Result<void> begin_release(const Resources&) { return {}; }

void release_resources(Resources& r) {
    delete r.backend;
    delete static_cast<backend::HostDisk*>(r.storage);
    if (r.frame_arena != nullptr) munmap(r.frame_arena, kFrameBytes);
    if (r.dma_region != nullptr) munmap(r.dma_region, kDmaBytes);
    r = Resources{};
}

}  // namespace ringlet::pdpix
