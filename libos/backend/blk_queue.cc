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
constexpr uint64_t kPageBytes = 4096;

constexpr uint64_t pages_for(uint64_t bytes) { return (bytes + kPageBytes - 1) / kPageBytes; }
// The ring first, then the request headers on their own page.
constexpr uint64_t kRingBytes = virtio::Virtqueue::ring_bytes(BlkQueue::kQueueSize);
constexpr uint64_t kRequestsOffset = pages_for(kRingBytes) * kPageBytes;
constexpr uint64_t kRingPages = pages_for(kRequestsOffset + virtio::BlkDevice::request_bytes(BlkQueue::kQueueSize));

constexpr uint64_t kIrqBind = 1;

}  // namespace

Result<void> BlkQueue::open(const virtio::DmaSpan& dma, uint32_t notify_bit) {
    if (m_open) return Error::Busy;
    if (dma.va == nullptr || dma.len == 0) return Error::InvalidArgument;
    const ClaimedDevice dev = TRY(claim_virtio_device(kVirtioBlkId, kDeviceVa));
    m_device_cap = dev.cap;
    const uint64_t ring_pa = TRY(map_contiguous(kRingPages, kRingVa));
    m_dma = dma;

    virtio::BlkConfig cfg;
    cfg.window = virtio::MmioWindow(kDeviceVa);
    cfg.ring = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa), ring_pa, static_cast<uint32_t>(kRingBytes)};
    cfg.requests = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa + kRequestsOffset), ring_pa + kRequestsOffset,
                                   virtio::BlkDevice::request_bytes(kQueueSize)};
    cfg.queue_size = kQueueSize;
    TRY(m_dev.init(cfg));
    // Polling is the fast path; the interrupt is armed only before a sleep.
    m_dev.disable_interrupts();
    TRY(user::as_result(user::syscall(kSysIrqControl, m_device_cap, kIrqBind, notify_bit)));
    m_open = true;
    return {};
}

Result<void> BlkQueue::start(rt::Executor& exec, mem::DmaHeap& heap) {
    if (!m_open) return Error::InvalidArgument;
    if (m_exec != nullptr) return Error::Busy;
    m_poller = TRY(exec.spawn(rt::poll_loop(exec, *this), rt::TaskClass::Poll));
    m_exec = &exec;
    m_heap = &heap;
    return {};
}

void BlkQueue::stop_polling() {
    if (m_exec == nullptr) return;
    (void)m_exec->cancel(m_poller);  // already gone is fine
    m_exec = nullptr;
}

Result<uint64_t> BlkQueue::pa_of(const uint8_t* va, uint32_t len) const {
    if (va < m_dma.va || va >= m_dma.va + m_dma.len || len > m_dma.va + m_dma.len - va) return Error::BadAddress;
    return m_dma.pa + static_cast<uint64_t>(va - m_dma.va);
}

Result<uint32_t> BlkQueue::try_submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
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
        const uint64_t pa = TRY(pa_of(b->data() + off, len));
        const virtio::DmaSpan span{b->data() + off, pa, len};
        const uint64_t sector = offset / kSectorSize;
        r = kind == Kind::Read ? m_dev.read(sector, span, slot) : m_dev.write(sector, span, slot);
    }
    if (!r) return r.error();
    Slot& s = m_slots[slot];
    s = Slot{};
    s.busy = true;
    s.buf = b;
    if (b != nullptr) m_heap->retain(b);  // the device's reference, dropped at completion
    ++m_in_flight;
    return slot;
}

rt::Task<Result<uint32_t>> BlkQueue::submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    for (;;) {
        auto slot = try_submit(kind, offset, b, off, len);
        if (slot || slot.error() != Error::Full) co_return slot;
        // Ring full: hand back what finished (the poll task may be parked
        // behind this very task's yields) and let other tasks run.
        if (poll(kQueueSize) == 0) co_await m_exec->yield();
        if (m_broken) co_return Error::IoError;
    }
}

rt::Task<Result<void>> BlkQueue::run(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    if (m_exec == nullptr) co_return Error::InvalidArgument;
    if (m_broken) co_return Error::IoError;
    auto slot = co_await submit(kind, offset, b, off, len);
    if (!slot) co_return slot.error();
    Completion done(this, *slot);
    const Error status = co_await done;
    if (status != Error::Ok) co_return status;
    co_return Result<void>();
}

rt::Task<Result<void>> BlkQueue::write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    co_return co_await run(Kind::Write, offset, b, off, len);
}

rt::Task<Result<void>> BlkQueue::read(uint64_t offset, mem::Buffer* b, uint32_t len) {
    co_return co_await run(Kind::Read, offset, b, 0, len);
}

rt::Task<Result<void>> BlkQueue::flush() {
    if (!can_flush()) co_return Result<void>();  // no volatile cache: writes are already durable
    co_return co_await run(Kind::Flush, 0, nullptr, 0, 0);
}

void BlkQueue::complete(uint32_t slot, Error status) {
    Slot& s = m_slots[slot];
    if (!s.busy || s.done) return;  // the driver validated the cookie; be defensive anyway
    --m_in_flight;
    if (s.buf != nullptr) m_heap->release(s.buf);
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
    if (m_needs_reset && !m_broken) recover("device needs a reset");
    while (n < max && !m_broken) {
        auto c = m_dev.poll();
        if (!c) {
            if (c.error() == Error::Empty) break;
            recover(error_name(c.error()));
            break;
        }
        if (c->cookie < kQueueSize) complete(static_cast<uint32_t>(c->cookie), c->status);
        ++n;
    }
    return n;
}

void BlkQueue::recover(const char* why) {
    m_needs_reset = false;
    ++m_resets;
    const bool give_up = m_resets > kMaxResets;
    user::printf("libos: virtio-blk misbehaved (%s): %s (reset %u of %u)\n", why,
                 give_up ? "giving it up" : "resetting it", m_resets, kMaxResets);
    // Section 2.4: once the reset reads back 0 the device touches no buffer,
    // so the requests it held can be failed and their buffers released. A
    // device that does not reset might still write: give it up, release
    // nothing (the slots keep their buffers).
    if (!m_dev.reset().ok()) {
        user::printf("libos: virtio-blk does not reset; given up\n");
        m_broken = true;
        return;
    }
    for (auto cookie = m_dev.reclaim(); cookie.ok(); cookie = m_dev.reclaim()) {
        if (*cookie < kQueueSize) complete(static_cast<uint32_t>(*cookie), Error::IoError);
    }
    if (give_up) {
        m_broken = true;
        return;
    }
    if (auto r = m_dev.restart(); !r) {
        user::printf("libos: virtio-blk did not come back (%s); given up\n", error_name(r.error()));
        m_broken = true;
        return;
    }
    m_dev.disable_interrupts();  // as open(): polling, the interrupt armed only before a sleep
}

bool BlkQueue::before_sleep() {
    // Nothing the device could wake us for, or nobody to poll after it did.
    if (!m_open || m_broken || m_exec == nullptr || m_in_flight == 0) return true;
    if (m_needs_reset) return false;  // poll first: it resets the device
    return !m_dev.enable_interrupts();
}

void BlkQueue::after_wake() {
    if (!m_open) return;
    m_dev.disable_interrupts();
    ++m_interrupts;
    // Lowers the device's line; the kernel completes the interrupt at the
    // PLIC when this core next waits for the disk's bit (wait folds the
    // acknowledgement in), so a wake-up costs no syscall of its own. A
    // config change may be the device asking for a reset (section 2.1.2).
    if ((m_dev.ack_interrupt() & virtio::kInterruptConfigChange) != 0 && m_dev.transport().needs_reset()) {
        m_needs_reset = true;
    }
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
