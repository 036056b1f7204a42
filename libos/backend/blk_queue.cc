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

// The one disk's multiqueue recovery (its cores' notes), set up by core 0.
BlkMqRecovery g_recovery;

void report_mq(const char* what, uint32_t reset, uint32_t max) {
    user::printf("libos: virtio-blk %s (reset %u of %u)\n", what, reset, max);
}

}  // namespace

Result<void> BlkQueue::open(const virtio::DmaSpan& dma, uint32_t notify_bit, uint16_t queues, BlkQueue* const* more) {
    if (m_open) return Error::Busy;
    if (dma.va == nullptr || dma.len == 0 || queues == 0 || queues > kMeshCores) return Error::InvalidArgument;
    if (queues > 1 && more == nullptr) return Error::InvalidArgument;
    const ClaimedDevice dev = TRY(claim_virtio_device(kVirtioBlkId, kDeviceVa));
    m_device_cap = dev.cap;
    // Each queue's ring and request headers, one block after another.
    const uint64_t ring_pa = TRY(map_contiguous(kRingPages * queues, kRingVa));
    m_dma = dma;
    auto memory = [&](uint16_t k) {
        const uint64_t base = k * kRingPages * kPageBytes;
        return virtio::BlkQueueMemory{
            virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa + base), ring_pa + base,
                            static_cast<uint32_t>(kRingBytes)},
            virtio::DmaSpan{reinterpret_cast<uint8_t*>(kRingVa + base + kRequestsOffset),
                            ring_pa + base + kRequestsOffset, virtio::BlkDevice::request_bytes(kQueueSize)}};
    };

    virtio::BlkConfig cfg;
    cfg.window = virtio::MmioWindow(kDeviceVa);
    cfg.ring = memory(0).ring;
    cfg.requests = memory(0).requests;
    cfg.queue_size = kQueueSize;
    if (queues > 1) {
        for (uint16_t k = 1; k < queues; ++k) {
            if (more[k] == nullptr || more[k] == this) return Error::InvalidArgument;
            m_more_devices[k] = &more[k]->m_dev;
            m_more_memory[k] = memory(k);
        }
        cfg.queues = queues;
        cfg.more = m_more_devices;  // members: restart() reads them again
        cfg.more_memory = m_more_memory;
    }
    TRY(m_dev.init(cfg));
    // Polling is the fast path; the interrupt is armed only before a sleep.
    m_dev.disable_interrupts();
    for (uint16_t k = 1; k < m_dev.active_queues(); ++k) more[k]->m_dev.disable_interrupts();
    if (m_dev.active_queues() > 1) {
        g_recovery.configure(m_dev.active_queues(), kMaxResets, nullptr, nullptr, &report_mq);
        m_group = &g_recovery;
        for (uint16_t k = 1; k < m_dev.active_queues(); ++k) {
            more[k]->m_group = &g_recovery;
            more[k]->m_core = k;
        }
    }
    TRY(user::as_result(user::syscall(kSysIrqControl, m_device_cap, kIrqBind, notify_bit)));
    m_open = true;
    return {};
}

Result<void> BlkQueue::open_queue(const virtio::DmaSpan& dma) {
    if (m_open) return Error::Busy;
    if (dma.va == nullptr || dma.len == 0 || m_dev.queue_index() == 0) return Error::InvalidArgument;
    m_dma = dma;
    m_secondary = true;
    m_open = true;
    // During a reset it waits (poll: recover_with_others) until core 0
    // set its queue up again.
    if (m_group != nullptr && m_group->join(m_core)) m_dev.disable_interrupts();
    return {};
}

void BlkQueue::set_recovery_wake(BlkMqRecovery::Wake wake, void* ctx) {
    if (m_group != nullptr) m_group->configure(m_group->cores(), kMaxResets, wake, ctx, &report_mq);
}

void BlkQueue::set_peer_region(uint32_t core, const virtio::DmaSpan& dma) {
    if (core < kMeshCores) m_peers[core] = dma;
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

Result<uint64_t> BlkQueue::pa_in(const virtio::DmaSpan& region, const uint8_t* va, uint32_t len) {
    if (region.va == nullptr || va < region.va || va >= region.va + region.len || len > region.va + region.len - va) {
        return Error::BadAddress;
    }
    return region.pa + static_cast<uint64_t>(va - region.va);
}


Result<uint32_t> BlkQueue::try_submit(Kind kind, uint64_t offset, uint8_t* data, uint32_t len, mem::Buffer* hold,
                                      const virtio::DmaSpan& region) {
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
        const uint64_t pa = TRY(pa_in(region, data, len));
        const virtio::DmaSpan span{data, pa, len};
        const uint64_t sector = offset / kSectorSize;
        r = kind == Kind::Read ? m_dev.read(sector, span, slot) : m_dev.write(sector, span, slot);
    }
    if (!r) return r.error();
    Slot& s = m_slots[slot];
    s = Slot{};
    s.busy = true;
    s.buf = hold;
    if (hold != nullptr) m_heap->retain(hold);  // the device's reference, dropped at completion
    ++m_in_flight;
    ++m_submitted;
    return slot;
}

rt::Task<Result<uint32_t>> BlkQueue::submit(Kind kind, uint64_t offset, uint8_t* data, uint32_t len,
                                            mem::Buffer* hold, const virtio::DmaSpan& region) {
    for (;;) {
        auto slot = try_submit(kind, offset, data, len, hold, region);
        if (slot || slot.error() != Error::Full) co_return slot;
        // Ring full: hand back what finished (the poll task may be parked
        // behind this very task's yields) and let other tasks run.
        if (poll(kQueueSize) == 0) co_await m_exec->yield();
        if (!usable()) co_return Error::IoError;
    }
}

rt::Task<Result<void>> BlkQueue::run(Kind kind, uint64_t offset, uint8_t* data, uint32_t len, mem::Buffer* hold,
                                     const virtio::DmaSpan& region) {
    if (m_exec == nullptr) co_return Error::InvalidArgument;
    if (!usable()) co_return Error::IoError;  // broken, or every queue is being reset
    auto slot = co_await submit(kind, offset, data, len, hold, region);
    if (!slot) co_return slot.error();
    Completion done(this, *slot);
    const Error status = co_await done;
    if (status != Error::Ok) co_return status;
    co_return Result<void>();
}

rt::Task<Result<void>> BlkQueue::write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    co_return co_await run(Kind::Write, offset, b->data() + off, len, b, m_dma);
}

rt::Task<Result<void>> BlkQueue::read(uint64_t offset, mem::Buffer* b, uint32_t len) {
    co_return co_await run(Kind::Read, offset, b->data(), len, b, m_dma);
}

rt::Task<Result<void>> BlkQueue::flush() {
    if (!can_flush()) co_return Result<void>();  // no volatile cache: writes are already durable
    co_return co_await run(Kind::Flush, 0, nullptr, 0, nullptr, m_dma);
}

rt::Task<Result<void>> BlkQueue::serve(uint32_t core, BlkOp op, uint64_t offset, uint8_t* data, uint32_t len) {
    if (core >= kMeshCores) co_return Error::InvalidArgument;
    if (op == Kind::Flush && !can_flush()) co_return Result<void>();
    if (op != Kind::Flush && (data == nullptr || len == 0)) co_return Error::InvalidArgument;
    // The bytes must lie in that core's own DMA region: core 0 knows its
    // physical address there, and nothing else of it.
    co_return co_await run(op, offset, data, len, nullptr, m_peers[core]);
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
    // Another core's queue: its wake-up came through its doorbell, not
    // after_wake(), so the interrupt armed before the sleep is put off here.
    if (m_armed) {
        m_dev.disable_interrupts();
        m_armed = false;
    }
    if (m_group != nullptr) {
        if (!recover_with_others()) return 0;
    } else if (m_needs_reset && !m_broken) {
        recover("device needs a reset");
    }
    while (n < max && !m_broken) {
        auto c = m_dev.poll();
        if (!c) {
            if (c.error() == Error::Empty) break;
            if (m_group == nullptr) {
                recover(error_name(c.error()));
            } else {
                user::printf("libos: virtio-blk queue %u misbehaved (%s)\n", m_dev.queue_index(),
                             error_name(c.error()));
                m_group->fault(m_core);
                (void)recover_with_others();
            }
            break;
        }
        if (c->cookie < kQueueSize) complete(static_cast<uint32_t>(c->cookie), c->status);
        ++n;
    }
    return n;
}

bool BlkQueue::recover_with_others() {
    if (m_needs_reset) {  // core 0 saw DEVICE_NEEDS_RESET at a wake-up
        m_needs_reset = false;
        m_group->fault(m_core);
    }
    const BlkMqRecovery::State st = m_group->step(m_core, *this);
    if (st == BlkMqRecovery::State::Broken) m_broken = true;
    if (m_core == 0) m_resets = m_group->resets();
    return st == BlkMqRecovery::State::Running;
}

void BlkQueue::recovery_fail(uint64_t cookie) {
    if (cookie < kQueueSize) complete(static_cast<uint32_t>(cookie), Error::IoError);
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
    if (m_group != nullptr && m_open && m_exec != nullptr) {
        if (m_needs_reset || !m_group->may_sleep(m_core)) return false;  // a fault or a note to act on first
        if (!m_group->running(m_core)) return true;     // a note (a doorbell) wakes us
    }
    if (!m_open || m_broken || m_exec == nullptr || m_in_flight == 0) return true;
    if (m_needs_reset) return false;  // poll first: it resets the device
    m_armed = m_secondary;
    return !m_dev.enable_interrupts();
}

void BlkQueue::after_wake() {
    if (!m_open || m_secondary) return;  // the device's line is core 0's to acknowledge
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
