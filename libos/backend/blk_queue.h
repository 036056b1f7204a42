// BlkQueue: the machine's first virtio-blk device as a pdpix::BlockDevice,
// the engine behind PDPIX storage queues (libos/pdpix/storage.h) on Ringlet.
//
// The libOS drives the device itself: the kernel only granted its MMIO page,
// its ring frames and its interrupt, bound to a notification bit of the
// app's one RingletPlatform (the network has another). Data moves zero-copy
// between the device and mem::Buffers of the libOS's DMA heap (the memory
// behind demi_sgarray_t), whose physical address the resources know.
//
// Completions: a poll task (rt::poll_loop) drains the used ring and wakes
// the request's task; when the core is idle, the platform calls this
// object's SleepHook to arm the device's interrupt before the wait syscall
// and to acknowledge device then kernel after it.
//
// Cancellation: a request's state lives in the queue's slot table, not in
// the task's frame, and the slot holds a reference to the buffer; a task
// destroyed mid-request abandons its slot, which is freed (and the buffer
// released) only when the device hands the request back.
//
// A misbehaving device (a used-ring entry that breaks the protocol, or
// DEVICE_NEEDS_RESET after a config-change interrupt) is bad input, not the
// end: the queue resets it, fails every request it held with IoError (EIO
// to the app), brings it up again and goes on, up to kMaxResets times with
// a console line each; then it gives the device up and every request fails.
// What the device acknowledged before stays acknowledged; what it held was
// never acknowledged, so the app knows to retry it.
//
// Multiqueue (issue 14): core 0's BlkQueue brings the device up with one
// request queue per core where the device offers them (open()'s `queues`),
// and the BlkQueue of each further core drives its queue alone
// (open_queue()). The device's one interrupt line stays core 0's: another
// core arms its queue before it sleeps and core 0 rings its doorbell
// (BlkForwardServer). Core 0's BlkQueue also serves other cores' forwarded
// requests (BlkTarget, blk_forward.h), whose bytes lie in those cores' DMA
// regions (set_peer_region). A multiqueue device that misbehaves is reset
// by all the cores together (BlkMqRecovery, blk_recovery.h): each fails the
// requests its queue held with IoError, core 0 brings every queue back, the
// same kMaxResets budget holds.
#pragma once

#include <coroutine>
#include <stdint.h>

#include "drivers/virtio/blk.h"
#include "libos/backend/blk_forward.h"
#include "libos/backend/blk_recovery.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/mem/dma_heap.h"
#include "libos/pdpix/storage.h"
#include "libos/rt/executor.h"
#include "libos/rt/poll_loop.h"
#include "libos/rt/task.h"
#include "ringlet/result.h"

namespace ringlet::backend {

class BlkQueue final : public pdpix::BlockDevice,
                       public SleepHook,
                       public rt::PollSource,
                       public BlkTarget,
                       private BlkRecoveryQueue {
public:
    static constexpr uint16_t kQueueSize = 64;
    static constexpr uint32_t kMaxResets = 8;
    static_assert(kSectorSize == virtio::BlkDevice::kSectorSize);

    BlkQueue() = default;
    BlkQueue(const BlkQueue&) = delete;
    BlkQueue& operator=(const BlkQueue&) = delete;

    // Claims the first free virtio-blk device, maps its registers, allocates
    // its ring and request headers (physically contiguous), brings the
    // device up and binds its interrupt to notification bit `notify_bit`.
    // Data buffers must lie in `dma` (the libOS's DMA heap region, va and
    // pa). NotFound without a virtio-blk device, Busy if already open, else
    // the failing step's error. Keep the object in static storage (it holds
    // the ~10 KB driver).
    // With `queues` > 1, asks for that many request queues (VIRTIO_BLK_F_MQ)
    // and makes more[k] (an unopened BlkQueue) the driver of queue k, for
    // k < active_queues(); the device may offer fewer.
    Result<void> open(const virtio::DmaSpan& dma, uint32_t notify_bit, uint16_t queues = 1,
                      BlkQueue* const* more = nullptr);
    // Another core's queue, set up by core 0's open(): its buffers lie in
    // `dma`. InvalidArgument if core 0 did not give this object a queue.
    Result<void> open_queue(const virtio::DmaSpan& dma);
    // Request queues the device gave (1 without multiqueue); this object's.
    uint16_t active_queues() const { return m_dev.active_queues(); }
    uint16_t device_queues() const { return m_dev.device_queues(); }
    uint16_t queue_index() const { return m_dev.queue_index(); }
    // Whether the device finished requests this queue's poll() has not
    // taken (read by core 0 for a sleeping core).
    bool pending() const { return m_open && m_dev.pending(); }
    // Multiqueue: how one core's recovery note wakes another (a doorbell;
    // see blk_recovery.h). Core 0's, after open().
    void set_recovery_wake(BlkMqRecovery::Wake wake, void* ctx);
    // Core `core`'s DMA region, whose bytes its forwarded requests name.
    void set_peer_region(uint32_t core, const virtio::DmaSpan& dma);

    // Spawns the completion poller on `exec` (a Poll task); requests park on
    // it and hold references to buffers of `heap` (over the DMA region).
    // InvalidArgument if not open, Busy if started.
    Result<void> start(rt::Executor& exec, mem::DmaHeap& heap);
    // Cancels the poller (the device stays open; requests in flight finish
    // at the next start()). Call while the executor still exists.
    void stop_polling();

    // --- pdpix::BlockDevice (offsets and lengths checked by the caller;
    // the driver refuses what is not whole sectors inside the device) ---
    uint64_t capacity_bytes() const override { return m_dev.capacity() * kSectorSize; }
    bool read_only() const override { return m_dev.read_only(); }
    // IoError once the device broke its ring; BadAddress for a buffer
    // outside the DMA region; InvalidArgument before start().
    rt::Task<Result<void>> write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) override;
    rt::Task<Result<void>> read(uint64_t offset, mem::Buffer* b, uint32_t len) override;
    // Ok at once when the device has no write cache (no VIRTIO_BLK_F_FLUSH:
    // writes are durable when they complete).
    rt::Task<Result<void>> flush() override;

    bool can_flush() const { return m_dev.can_flush(); }
    // Requests submitted and not yet handed back by the device.
    uint32_t in_flight() const { return m_in_flight; }
    // Device interrupts taken after a sleep (how often the core slept on it).
    uint64_t interrupts() const { return m_interrupts; }
    // True once the device was given up (kMaxResets exhausted, or it would
    // not come back); every request fails.
    bool broken() const { return m_broken; }
    // Resets done after the device misbehaved.
    uint32_t resets() const { return m_resets; }
    // A test hook (ringlet_blk_inject_fault): the next poll acts as if the
    // device had asked for a reset (with every core, on a multiqueue disk).
    void inject_fault() { m_needs_reset = true; }
    bool is_open() const { return m_open; }
    // Requests submitted on this object's device queue (per-queue counter).
    uint64_t submitted() const { return m_submitted; }

    // BlkTarget: another core's request, submitted on this queue.
    rt::Task<Result<void>> serve(uint32_t core, BlkOp op, uint64_t offset, uint8_t* data, uint32_t len) override;

    // rt::PollSource: hands finished requests to their tasks.
    uint32_t poll(uint32_t max) override;

    // SleepHook: arm the device's interrupt (false: completions arrived, do
    // not sleep); after waking on our bit, ack the device, then the kernel.
    bool before_sleep() override;
    void after_wake() override;

private:
    using Kind = BlkOp;
    struct Slot {
        rt::Waker waker;
        mem::Buffer* buf = nullptr;  // the reference this request holds
        Error status = Error::Ok;
        bool busy = false;
        bool done = false;
        bool abandoned = false;  // its task is gone: free on completion
    };

    // Suspends until the request in `slot` completes; the destructor frees
    // the slot or, if the device still has it, abandons it.
    class Completion {
    public:
        Completion(BlkQueue* q, uint32_t slot) : m_q(q), m_slot(slot) {}
        Completion(const Completion&) = delete;
        ~Completion();
        bool await_ready() const { return m_q->m_slots[m_slot].done; }
        void await_suspend(std::coroutine_handle<> h);
        Error await_resume() const { return m_q->m_slots[m_slot].status; }

    private:
        BlkQueue* m_q;
        uint32_t m_slot;
    };

    // Submits one request for bytes [data, data + len) of DMA region
    // `region` into a free slot: the slot index, or Full. `hold` (or
    // nullptr) is the buffer they lie in, retained until the device is done
    // (another core's are not: that core holds them). BadAddress for bytes
    // outside the region.
    Result<uint32_t> try_submit(Kind kind, uint64_t offset, uint8_t* data, uint32_t len, mem::Buffer* hold,
                                const virtio::DmaSpan& region);
    // try_submit, waiting (and draining completions) while the ring is full.
    rt::Task<Result<uint32_t>> submit(Kind kind, uint64_t offset, uint8_t* data, uint32_t len, mem::Buffer* hold,
                                      const virtio::DmaSpan& region);
    rt::Task<Result<void>> run(Kind kind, uint64_t offset, uint8_t* data, uint32_t len, mem::Buffer* hold,
                               const virtio::DmaSpan& region);
    static Result<uint64_t> pa_in(const virtio::DmaSpan& region, const uint8_t* va, uint32_t len);
    void complete(uint32_t slot, Error status);
    // Resets the device, fails what it held with IoError, restarts it (or
    // gives it up). `why` goes on the console line. Single-queue only.
    void recover(const char* why);
    // Multiqueue: this core's share of a reset of every queue; false while
    // the queue may not be used.
    bool recover_with_others();
    // Whether requests may go to the device now (not broken, not in a reset).
    bool usable() const { return !m_broken && (m_group == nullptr || m_group->running(m_core)); }
    // BlkRecoveryQueue.
    virtio::BlkDevice& recovery_device() override { return m_dev; }
    void recovery_fail(uint64_t cookie) override;

    virtio::BlkDevice m_dev;
    virtio::DmaSpan m_dma;
    rt::Executor* m_exec = nullptr;
    mem::DmaHeap* m_heap = nullptr;
    rt::TaskId m_poller;
    uint64_t m_device_cap = 0;
    uint32_t m_in_flight = 0;
    uint64_t m_interrupts = 0;
    bool m_open = false;
    bool m_broken = false;
    bool m_needs_reset = false;  // DEVICE_NEEDS_RESET seen at a wake-up: recover() at the next poll
    uint32_t m_resets = 0;
    bool m_secondary = false;  // another core's queue: the device-wide parts are core 0's
    bool m_armed = false;      // a secondary queue's interrupt is on (before_sleep)
    uint64_t m_submitted = 0;
    virtio::DmaSpan m_peers[kMeshCores] = {};
    BlkMqRecovery* m_group = nullptr;  // multiqueue: every queue's cores reset the device together
    uint32_t m_core = 0;               // this queue's core (its index)
    // Core 0's: the further queues, read again when they are restarted.
    virtio::BlkDevice* m_more_devices[kMeshCores] = {};
    virtio::BlkQueueMemory m_more_memory[kMeshCores] = {};
    Slot m_slots[kQueueSize];
};

}  // namespace ringlet::backend

namespace ringlet::backend {

// What one core's storage did (issue 14's per-queue counters), for apps
// that report them.
struct BlkCoreStats {
    int32_t queue = -1;      // the device request queue this core submits on; -1: it forwards to core 0
    uint32_t queues = 0;     // request queues the device gave (1 without multiqueue)
    uint64_t submitted = 0;  // requests put on that queue (core 0's include those it served for others)
    uint64_t forwarded = 0;  // requests handed to core 0
    uint64_t dropped = 0;    // requests refused with EAGAIN (request ring full, no descriptor)
    uint64_t served = 0;     // core 0: other cores' requests it completed
    uint64_t doorbells = 0;  // core 0: sleeping cores it woke because their own queue had completions
};

}  // namespace ringlet::backend

// 0 and *out for `core`, or ENOENT if that core has no storage queue open.
extern "C" int ringlet_blk_core_stats(unsigned core, ringlet::backend::BlkCoreStats* out);
