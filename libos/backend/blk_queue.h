// BlkQueue: a storage queue on the first virtio-blk device, for one core's
// libOS executor. Ringlet extension: Demikernel's C API has no storage call,
// so this is the C++ face (awaitable push = write at a byte offset, pop =
// read at a byte offset, flush), not a demi_* queue descriptor yet.
//
// The libOS drives the device itself: the kernel only granted its MMIO page,
// DMA frames and its interrupt, routed to notification bit 1 (bit 0 is the
// network's). Data moves zero-copy between the device and mem::Buffers from
// the queue's own DmaHeap (the same buffer type behind demi_sgarray_t):
// alloc() one, fill it, write() it; read() hands back a filled one.
//
// Completions: a poll task (rt::poll_loop) drains the used ring and wakes
// the request's task; when the core is idle, the platform's sleep hook (this
// class) arms the device's interrupt before the wait syscall and acknowledges
// device then kernel after it, exactly as the network backend does.
//
// Cancellation: a request's state lives in the queue's slot table, not in
// the task's frame, and the slot holds a reference to the buffer; a task
// destroyed mid-request abandons its slot, which is freed (and the buffer
// released) only when the device hands the request back.
#pragma once

#include <coroutine>
#include <stdint.h>

#include "drivers/virtio/blk.h"
#include "libos/backend/ringlet_platform.h"
#include "libos/mem/dma_heap.h"
#include "libos/rt/executor.h"
#include "libos/rt/poll_loop.h"
#include "libos/rt/task.h"
#include "ringlet/result.h"

namespace ringlet::backend {

class BlkQueue final : public SleepHook, public rt::PollSource {
public:
    static constexpr uint64_t kNotifyBit = 1;
    static constexpr uint32_t kBlockSize = virtio::BlkDevice::kSectorSize;
    static constexpr uint16_t kQueueSize = 64;
    static constexpr uint64_t kDataPages = 512;  // 2 MiB DMA heap for data buffers

    BlkQueue() = default;
    BlkQueue(const BlkQueue&) = delete;
    BlkQueue& operator=(const BlkQueue&) = delete;

    // Claims the first free virtio-blk device, maps its registers, allocates
    // its ring, request headers and data heap (physically contiguous), brings
    // the device up and binds its interrupt to kNotifyBit. NotFound without a
    // virtio-blk device, Busy if already open, else the failing step's error.
    // Keep the object in static storage (it holds the ~10 KB driver).
    Result<void> open();

    // Spawns the completion poller on `exec` (a Poll task) and remembers the
    // executor for parking requests. The executor's platform must end sleeps
    // on notify_mask() and call this object's SleepHook. InvalidArgument if
    // not open; the executor's spawn error otherwise.
    Result<void> start(rt::Executor& exec);

    // The notification bits the executor's platform must wait for.
    static constexpr uint64_t notify_mask() { return 1ull << kNotifyBit; }
    uint64_t capacity_bytes() const { return m_dev.capacity() * kBlockSize; }
    bool read_only() const { return m_dev.read_only(); }
    bool can_flush() const { return m_dev.can_flush(); }

    // A DMA buffer of at least len bytes, owned by the caller (one
    // reference), for write() or to give back with free(). OutOfMemory /
    // InvalidArgument as DmaHeap::alloc.
    Result<mem::Buffer*> alloc(uint32_t len);
    // Drops the caller's reference; a request still using it keeps its own.
    // BadAddress / InvalidArgument for a buffer that is not the caller's
    // (another heap's, or freed already).
    Result<void> free(mem::Buffer* b) { return m_heap.app_free(b->data()); }

    // Writes b->data()[0, len) at byte `offset` (push). Checked before
    // anything is submitted: InvalidArgument unless offset and len are
    // multiples of kBlockSize, len > 0 and len <= b's capacity; OutOfRange if
    // it runs past capacity_bytes(); Unsupported on a read-only device. After
    // submission: IoError / Unsupported / BadFormat / Truncated as the device
    // reported it. The caller keeps its reference to b.
    rt::Task<Result<void>> write(uint64_t offset, mem::Buffer* b, uint32_t len);

    // Reads len bytes at byte `offset` (pop) into a new buffer the caller
    // owns (give it back with free()); b->len is set to len. Errors as
    // write(), plus OutOfMemory when the heap has no buffer that large.
    rt::Task<Result<mem::Buffer*>> read(uint64_t offset, uint32_t len);

    // Reads len bytes at byte `offset` into the caller's buffer b (from
    // alloc()), zero-copy; b->len is set to len on success. Errors as write()
    // (no Unsupported). On error b's contents are unspecified.
    rt::Task<Result<void>> read_into(uint64_t offset, mem::Buffer* b, uint32_t len);

    // Completes once every write the device completed before it is on
    // stable storage (VIRTIO_BLK_T_FLUSH). Ok at once when the device has no
    // write cache to flush (no VIRTIO_BLK_F_FLUSH: writes are durable).
    rt::Task<Result<void>> flush();

    // Requests submitted and not yet handed back by the device.
    uint32_t in_flight() const { return m_in_flight; }
    // Device interrupts taken after a sleep (how often the core slept on it).
    uint64_t interrupts() const { return m_interrupts; }
    // True once the device broke its ring protocol; every request fails.
    bool broken() const { return m_broken; }

    // rt::PollSource: hands finished requests to their tasks.
    uint32_t poll(uint32_t max) override;

    // SleepHook: arm the device's interrupt (false: completions arrived, do
    // not sleep); after waking on our bit, ack the device, then the kernel.
    bool before_sleep() override;
    void after_wake(uint64_t fired) override;

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

    Result<void> check(uint64_t offset, uint32_t len, uint32_t capacity, bool writes) const;
    // Submits one request into a free slot: the slot index, or Full.
    Result<uint32_t> try_submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t len);
    // try_submit, waiting (and draining completions) while the ring is full.
    rt::Task<Result<uint32_t>> submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t len);
    rt::Task<Result<void>> run(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t len);
    Result<uint64_t> pa_of(const uint8_t* va) const;
    void complete(uint32_t slot, Error status);

    virtio::BlkDevice m_dev;
    mem::DmaHeap m_heap;
    rt::Executor* m_exec = nullptr;
    uint64_t m_device_cap = 0;
    uint8_t* m_data_va = nullptr;
    uint64_t m_data_pa = 0;
    uint32_t m_in_flight = 0;
    uint64_t m_interrupts = 0;
    bool m_open = false;
    bool m_broken = false;
    Slot m_slots[kQueueSize];
};

}  // namespace ringlet::backend
