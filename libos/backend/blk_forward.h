// Storage from a core without a virtio-blk request queue of its own (issue
// 14): its requests go to core 0, which owns the device's queue 0, over the
// per-core rings of the CoreMesh (core_mesh.h) - the Multikernel way: an
// explicit message per request, no lock, no shared driver state.
//
// Which core uses which queue (blk_queue_for): core k submits on request
// queue k when the device gave at least k + 1 queues (VIRTIO_BLK_F_MQ,
// num_queues); every other core - all but core 0 on a single-queue disk,
// cores q..n-1 when the device offers q < n queues - forwards to core 0.
// Core 0 (not a core chosen by k mod q) because it alone holds the
// doorbells of every other core, so one forwarding path serves both cases.
//
// ForwardedBlock is the requesting core's BlockDevice: a request names the
// bytes in the core's own DMA heap (zero-copy: core 0 gives the device
// their physical address, it never touches their reference count) and
// holds the core's reference to the buffer until core 0 hands the request
// back, even if the waiting task is destroyed first. A full request ring,
// or no free descriptor, fails the request with WouldBlock (EAGAIN),
// counted in MeshCoreStats::blk_dropped; no core waits for another.
//
// BlkForwardServer is core 0's side: a poll task that takes each core's
// requests, runs each on core 0's storage (a BlkTarget: the BlkQueue of
// queue 0) as a task of its own, and hands the result back. It also rings
// the doorbell of a sleeping core whose own request queue has completions:
// virtio-mmio has one interrupt line for every queue, bound to core 0.
// It runs while core 0's own storage queue is open (ringlet_resources.cc
// starts and stops it with that queue), so core 0 keeps it open while the
// other cores use theirs.
#pragma once

#include <stdint.h>

#include "libos/backend/core_mesh.h"
#include "libos/mem/dma_heap.h"
#include "libos/pdpix/storage.h"
#include "libos/rt/executor.h"
#include "libos/rt/poll_loop.h"
#include "libos/rt/task.h"
#include "ringlet/result.h"

namespace ringlet::backend {

// The request queue core `core` submits on when the device gave `queues`
// request queues, or -1: it forwards to core 0.
inline int32_t blk_queue_for(uint32_t core, uint32_t queues) {
    return core < queues ? static_cast<int32_t>(core) : (core == 0 ? 0 : -1);
}

// Where core 0 runs core `core`'s request: bytes [data, data + len) of
// that core's DMA heap (already checked against the device's size).
class BlkTarget {
public:
    virtual rt::Task<Result<void>> serve(uint32_t core, BlkOp op, uint64_t offset, uint8_t* data, uint32_t len) = 0;

protected:
    ~BlkTarget() = default;
};

class ForwardedBlock final : public pdpix::BlockDevice, public rt::PollSource {
public:
    // `core` (>= 1) forwards over `mesh`; the device's size and read-only
    // flag are core 0's, fixed once its device came up.
    ForwardedBlock(CoreMesh& mesh, uint32_t core, uint64_t capacity_bytes, bool read_only);
    ForwardedBlock(const ForwardedBlock&) = delete;
    ForwardedBlock& operator=(const ForwardedBlock&) = delete;

    // Spawns the completion poller on `exec`; buffers are `heap`'s. Busy if
    // started.
    Result<void> start(rt::Executor& exec, mem::DmaHeap& heap);
    // Cancels the poller (requests in flight come back at the next start()).
    void stop_polling();

    uint64_t capacity_bytes() const override { return m_capacity; }
    bool read_only() const override { return m_read_only; }
    // WouldBlock when the request cannot be handed over now; else core 0's
    // answer (the device's status, BadAddress, IoError, ...).
    rt::Task<Result<void>> write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) override;
    rt::Task<Result<void>> read(uint64_t offset, mem::Buffer* b, uint32_t len) override;
    rt::Task<Result<void>> flush() override;

    uint32_t in_flight() const { return m_in_flight; }
    // rt::PollSource: requests core 0 handed back, to their tasks.
    uint32_t poll(uint32_t max) override;

private:
    // Suspends until the request comes back; the destructor frees the
    // descriptor or, if core 0 still has it, abandons it.
    class Completion {
    public:
        Completion(ForwardedBlock* f, BlkRequest* r) : m_f(f), m_r(r) {}
        Completion(const Completion&) = delete;
        ~Completion();
        bool await_ready() const { return m_r->done; }
        void await_suspend(std::coroutine_handle<> h) { m_r->waker = m_f->m_exec->park(h); }
        Error await_resume() const { return m_r->status; }

    private:
        ForwardedBlock* m_f;
        BlkRequest* m_r;
    };

    rt::Task<Result<void>> run(BlkOp op, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len);
    void free_request(BlkRequest* r);

    CoreMesh& m_mesh;
    uint32_t m_core;
    uint64_t m_capacity;
    bool m_read_only;
    rt::Executor* m_exec = nullptr;
    mem::DmaHeap* m_heap = nullptr;
    rt::TaskId m_poller;
    uint32_t m_in_flight = 0;
    BlkRequest* m_free = nullptr;
    BlkRequest m_requests[kBlkRequests];
};

class BlkForwardServer final : public rt::PollSource {
public:
    // Whether core k's own request queue has completions (the one interrupt
    // line is core 0's); nullptr when no other core has a queue.
    using QueuePending = bool (*)(uint32_t core);
    BlkForwardServer(CoreMesh& mesh, BlkTarget& target, QueuePending pending = nullptr)
        : m_mesh(mesh), m_target(target), m_pending(pending) {}
    BlkForwardServer(const BlkForwardServer&) = delete;
    BlkForwardServer& operator=(const BlkForwardServer&) = delete;

    // Spawns the server on core 0's executor. Busy if started.
    Result<void> start(rt::Executor& exec);
    void stop_polling();

    uint32_t poll(uint32_t max) override;
    // Requests taken and not yet handed back.
    uint32_t serving() const { return m_serving; }
    // Requests failed because no task could be spawned for them.
    uint64_t no_task() const { return m_no_task; }
    // Doorbells rung for sleeping cores whose own queue had completions.
    uint64_t doorbells() const { return m_doorbells; }

private:
    rt::Task<void> serve_one(BlkRequest* r);

    CoreMesh& m_mesh;
    BlkTarget& m_target;
    QueuePending m_pending;
    rt::Executor* m_exec = nullptr;
    rt::TaskId m_poller;
    uint32_t m_serving = 0;
    uint64_t m_no_task = 0;
    uint64_t m_doorbells = 0;
};

}  // namespace ringlet::backend
