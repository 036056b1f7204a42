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
#pragma once

#include <coroutine>
#include <stdint.h>

#include "drivers/virtio/blk.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/mem/dma_heap.h"
#include "libos/pdpix/storage.h"
#include "libos/rt/executor.h"
#include "libos/rt/poll_loop.h"
#include "libos/rt/task.h"
#include "ringlet/result.h"

namespace ringlet::backend {

class BlkQueue final : public pdpix::BlockDevice, public SleepHook, public rt::PollSource {
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
    Result<void> open(const virtio::DmaSpan& dma, uint32_t notify_bit);

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

    // rt::PollSource: hands finished requests to their tasks.
    uint32_t poll(uint32_t max) override;

    // SleepHook: arm the device's interrupt (false: completions arrived, do
    // not sleep); after waking on our bit, ack the device, then the kernel.
    bool before_sleep() override;
    void after_wake() override;

private:
    enum class Kind : uint8_t { Read, Write, Flush };
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

    // Submits one request into a free slot: the slot index, or Full.
    // b's bytes are data()[off, off + len).
    Result<uint32_t> try_submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len);
    // try_submit, waiting (and draining completions) while the ring is full.
    rt::Task<Result<uint32_t>> submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len);
    rt::Task<Result<void>> run(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len);
    Result<uint64_t> pa_of(const uint8_t* va, uint32_t len) const;
    void complete(uint32_t slot, Error status);
    // Resets the device, fails what it held with IoError, restarts it (or
    // gives it up). `why` goes on the console line.
    void recover(const char* why);

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
    Slot m_slots[kQueueSize];
};

}  // namespace ringlet::backend
