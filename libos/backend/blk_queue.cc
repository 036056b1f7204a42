#include "libos/backend/blk_queue.h"

#include "libos/backend/device_grants.h"
#include "ringlet/syscall_abi.h"
#include "user/rt/syscall.h"

namespace ringlet::backend {
namespace {

// Where the queue maps what the kernel grants: user half, clear of the
// network backend's 0x30_0000_0000.. window and of the app.
constexpr uint64_t kDeviceVa = 0x3100000000ull;
constexpr uint64_t kRingVa = 0x3100100000ull;
constexpr uint64_t kDataVa = 0x3101000000ull;
constexpr uint64_t kPageBytes = 4096;

constexpr uint64_t pages_for(uint64_t bytes) { return (bytes + kPageBytes - 1) / kPageBytes; }
// The ring first, then the request headers on their own page.
constexpr uint64_t kRingBytes = virtio::Virtqueue::ring_bytes(BlkQueue::kQueueSize);
constexpr uint64_t kRequestsOffset = pages_for(kRingBytes) * kPageBytes;
constexpr uint64_t kRingPages = pages_for(kRequestsOffset + virtio::BlkDevice::request_bytes(BlkQueue::kQueueSize));

constexpr uint64_t kIrqAck = 0;
constexpr uint64_t kIrqBind = 1;


}  // namespace

Result<void> BlkQueue::open() {
    if (m_open) return Error::Busy;
    const ClaimedDevice dev = TRY(claim_virtio_device(kVirtioBlkId, kDeviceVa));
    m_device_cap = dev.cap;
    const uint64_t ring_pa = TRY(map_contiguous(kRingPages, kRingVa));
    m_data_pa = TRY(map_contiguous(kDataPages, kDataVa));
    m_data_va = reinterpret_cast<uint8_t*>(kDataVa);
    m_heap = TRY(mem::DmaHeap::create(m_data_va, kDataPages * kPageBytes));

    virtio::BlkConfig cfg;
    cfg.window = virtio::MmioWindow(kDeviceVa);
    cfg.ring = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa), ring_pa, static_cast<uint32_t>(kRingBytes)};
    cfg.requests = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa + kRequestsOffset), ring_pa + kRequestsOffset,
                                   virtio::BlkDevice::request_bytes(kQueueSize)};
    cfg.queue_size = kQueueSize;
    TRY(m_dev.init(cfg));
    // Polling is the fast path; the interrupt is armed only before a sleep.
    m_dev.disable_interrupts();
    TRY(user::as_result(user::syscall(kSysIrqControl, m_device_cap, kIrqBind, kNotifyBit)));
    m_open = true;
    return {};
}

Result<void> BlkQueue::start(rt::Executor& exec) {
    if (!m_open || m_exec != nullptr) return Error::InvalidArgument;
    m_exec = &exec;
    TRY(exec.spawn(rt::poll_loop(exec, *this), rt::TaskClass::Poll));
    return {};
}

Result<mem::Buffer*> BlkQueue::alloc(uint32_t len) {
    mem::Buffer* b = TRY(m_heap.alloc(len));
    b->len = len;
    return b;
}

Result<void> BlkQueue::check(uint64_t offset, uint32_t len, uint32_t capacity, bool writes) const {
    if (!m_open || m_exec == nullptr) return Error::InvalidArgument;
    if (m_broken) return Error::IoError;
    if (len == 0 || len % kBlockSize != 0 || offset % kBlockSize != 0 || len > capacity) return Error::InvalidArgument;
    // Written so that no sum can wrap: offset <= end and len <= end - offset.
    const uint64_t end = capacity_bytes();
    if (offset > end || len > end - offset) return Error::OutOfRange;
    if (writes && read_only()) return Error::Unsupported;
    return {};
}

Result<uint64_t> BlkQueue::pa_of(const uint8_t* va) const {
    if (va < m_data_va || va >= m_data_va + kDataPages * kPageBytes) return Error::BadAddress;
    return m_data_pa + static_cast<uint64_t>(va - m_data_va);
}

Result<uint32_t> BlkQueue::try_submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t len) {
    uint32_t slot = kQueueSize;
    for (uint32_t i = 0; i < kQueueSize; ++i) {
        if (!m_slots[i].busy) {
            slot = i;
            break;
        }
    }
    if (slot == kQueueSize) return Error::Full;
    Result<void> r;
    if (kind == Kind::Flush) {
        r = m_dev.flush(slot);
    } else {
        const uint64_t pa = TRY(pa_of(b->data()));
        const virtio::DmaSpan span{b->data(), pa, len};
        const uint64_t sector = offset / kBlockSize;
        r = kind == Kind::Read ? m_dev.read(sector, span, slot) : m_dev.write(sector, span, slot);
    }
    if (!r) return r.error();
    Slot& s = m_slots[slot];
    s = Slot{};
    s.busy = true;
    s.buf = b;
    if (b != nullptr) m_heap.retain(b);  // the device's reference, dropped at completion
    ++m_in_flight;
    return slot;
}

rt::Task<Result<uint32_t>> BlkQueue::submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t len) {
    for (;;) {
        auto slot = try_submit(kind, offset, b, len);
        if (slot || slot.error() != Error::Full) co_return slot;
        // Ring full: hand back what finished (the poll task may be parked
        // behind this very task's yields) and let other tasks run.
        if (poll(kQueueSize) == 0) co_await m_exec->yield();
        if (m_broken) co_return Error::IoError;
    }
}

rt::Task<Result<void>> BlkQueue::run(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t len) {
    auto slot = co_await submit(kind, offset, b, len);
    if (!slot) co_return slot.error();
    Completion done(this, *slot);
    const Error status = co_await done;
    if (status != Error::Ok) co_return status;
    co_return Result<void>();
}

rt::Task<Result<void>> BlkQueue::write(uint64_t offset, mem::Buffer* b, uint32_t len) {
    if (b == nullptr) co_return Error::InvalidArgument;
    if (auto ok = check(offset, len, static_cast<uint32_t>(b->capacity), true); !ok) co_return ok.error();
    co_return co_await run(Kind::Write, offset, b, len);
}

rt::Task<Result<mem::Buffer*>> BlkQueue::read(uint64_t offset, uint32_t len) {
    if (auto ok = check(offset, len, len, false); !ok) co_return ok.error();
    auto b = alloc(len);
    if (!b) co_return b.error();
    // Held across the wait: if this task is cancelled, the frame's guard
    // drops the caller's reference (the slot keeps the device's own).
    mem::BufferRef guard = mem::BufferRef::adopt(&m_heap, *b);
    auto r = co_await run(Kind::Read, offset, *b, len);
    if (!r) co_return r.error();  // the guard frees the buffer
    m_heap.retain(*b);            // the caller's reference, outliving the guard
    co_return *b;
}

rt::Task<Result<void>> BlkQueue::read_into(uint64_t offset, mem::Buffer* b, uint32_t len) {
    if (b == nullptr) co_return Error::InvalidArgument;
    if (auto ok = check(offset, len, static_cast<uint32_t>(b->capacity), false); !ok) co_return ok.error();
    auto r = co_await run(Kind::Read, offset, b, len);
    if (!r) co_return r.error();
    b->len = len;
    co_return Result<void>();
}

rt::Task<Result<void>> BlkQueue::flush() {
    if (auto ok = check(0, kBlockSize, kBlockSize, false); !ok) co_return ok.error();
    if (!can_flush()) co_return Result<void>();  // no volatile cache: writes are already durable
    co_return co_await run(Kind::Flush, 0, nullptr, 0);
}

void BlkQueue::complete(uint32_t slot, Error status) {
    Slot& s = m_slots[slot];
    if (!s.busy || s.done) return;  // the driver validated the cookie; be defensive anyway
    --m_in_flight;
    if (s.buf != nullptr) m_heap.release(s.buf);
    s.buf = nullptr;
    if (s.abandoned) {
        s = Slot{};
        return;
    }
    s.done = true;
    s.status = status;
    s.waker.wake();
}

uint32_t BlkQueue::poll(uint32_t max) {
    uint32_t n = 0;
    while (n < max && !m_broken) {
        auto c = m_dev.poll();
        if (!c) {
            if (c.error() == Error::Empty) break;
            // The device broke the ring: fail everything it held, take no more.
            m_broken = true;
            user::printf("libos: virtio-blk ring broken (%s): resetting the device\n", error_name(c.error()));
            (void)m_dev.reset();  // stops DMA; a failed reset leaves nothing better to do
            for (;;) {
                auto cookie = m_dev.reclaim();
                if (!cookie) break;
                if (*cookie < kQueueSize) complete(static_cast<uint32_t>(*cookie), Error::IoError);
            }
            break;
        }
        if (c->cookie < kQueueSize) complete(static_cast<uint32_t>(c->cookie), c->status);
        ++n;
    }
    return n;
}

bool BlkQueue::before_sleep() {
    if (!m_open || m_broken || m_in_flight == 0) return true;  // nothing the device could wake us for
    return !m_dev.enable_interrupts();
}

void BlkQueue::after_wake(uint64_t fired) {
    if (!m_open) return;
    m_dev.disable_interrupts();
    if (!(fired & notify_mask())) return;
    ++m_interrupts;
    m_dev.ack_interrupt();  // lowers the device's line first ...
    // ... then lets the kernel deliver the next one. A failed ack leaves the
    // IRQ masked; polling still finds every completion, only sleeps get longer.
    (void)user::syscall(kSysIrqControl, m_device_cap, kIrqAck, 0);
}

BlkQueue::Completion::~Completion() {
    Slot& s = m_q->m_slots[m_slot];
    if (!s.busy) return;
    if (s.done) {
        s = Slot{};
    } else {
        s.abandoned = true;
        s.waker = rt::Waker{};
    }
}

void BlkQueue::Completion::await_suspend(std::coroutine_handle<> h) { m_q->m_slots[m_slot].waker = m_q->m_exec->park(h); }

}  // namespace ringlet::backend
