// LoopbackBackend: PDPIX queues that talk inside one process, for tests.
//
// UDP sockets deliver to the socket bound to the destination port; TCP
// connect pairs two queues through a listener's backlog; demi_create_pipe /
// demi_open_pipe share one named mailbox. Every push copies into a fresh
// DMA buffer (the "device" is done once it is queued) and never blocks.
// Queues are intrusive lists of Buffers (Buffer::next); when the shared SPSC
// ring (include/ringlet/spsc_ring.h) lands, the inbox can move onto it.
#pragma once

#include "libos/pdpix/queue.h"
#if RINGLET_FREESTANDING
#include "libos/backend/ringlet_platform.h"
#else
#include "libos/backend/host_platform.h"
#endif

namespace ringlet::backend {

// What a loopback app sleeps on: nothing outside the process can wake it,
// so on Linux a bounded nanosleep, on Ringlet the wait syscall's deadline.
#if RINGLET_FREESTANDING
using LoopbackPlatform = RingletPlatform;
#else
using LoopbackPlatform = SleepPlatform;
#endif

class LoopbackQueue;
struct Pipe;

class LoopbackBackend final : public pdpix::Backend {
public:
    static constexpr uint32_t kMaxPipes = 64;
    static constexpr uint32_t kMaxBound = 256;

    LoopbackBackend() = default;
    ~LoopbackBackend() override;
    rt::Platform& platform() override { return m_platform; }
    Result<void> start(rt::Executor& exec, mem::DmaHeap& heap) override;
    Result<pdpix::Queue*> socket(int domain, int type, int protocol) override;
    Result<pdpix::Queue*> create_pipe(const char* name) override;
    Result<pdpix::Queue*> open_pipe(const char* name) override;
    void destroy(pdpix::Queue* q) override;

    // Internal, for LoopbackQueue.
    mem::DmaHeap& heap() { return *m_heap; }
    // Claims port (0: an ephemeral one) for q; returns the port.
    Result<uint16_t> bind_port(LoopbackQueue* q, uint16_t port);
    void unbind(LoopbackQueue* q);
    LoopbackQueue* bound(uint16_t port, bool stream);
    uint16_t ephemeral_port();
    void drop_pipe(Pipe* p);

private:
    LoopbackPlatform m_platform;
    mem::DmaHeap* m_heap = nullptr;
    LoopbackQueue* m_bound[kMaxBound] = {};
    Pipe* m_pipes[kMaxPipes] = {};
    uint16_t m_next_port = 40000;
};

}  // namespace ringlet::backend
