#include "libos/backend/blk_forward.h"

namespace ringlet::backend {

// ---- ForwardedBlock: the requesting core ----

ForwardedBlock::ForwardedBlock(CoreMesh& mesh, uint32_t core, uint64_t capacity_bytes, bool read_only)
    : m_mesh(mesh), m_core(core), m_capacity(capacity_bytes), m_read_only(read_only) {
    for (BlkRequest& r : m_requests) {
        r.next_free = m_free;
        m_free = &r;
    }
}

Result<void> ForwardedBlock::start(rt::Executor& exec, mem::DmaHeap& heap) {
    if (m_exec != nullptr) return Error::Busy;
    m_poller = TRY(exec.spawn(rt::poll_loop(exec, *this), rt::TaskClass::Poll));
    m_exec = &exec;
    m_heap = &heap;
    return {};
}

void ForwardedBlock::stop_polling() {
    if (m_exec == nullptr) return;
    (void)m_exec->cancel(m_poller);
    m_exec = nullptr;
}

void ForwardedBlock::free_request(BlkRequest* r) {
    *r = BlkRequest{};
    r->next_free = m_free;
    m_free = r;
}

rt::Task<Result<void>> ForwardedBlock::run(BlkOp op, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    if (m_exec == nullptr) co_return Error::InvalidArgument;
    BlkRequest* r = m_free;
    if (r == nullptr) {  // kBlkRequests in flight already: refuse, as a full ring
        ++m_mesh.stats(m_core).blk_dropped;
        co_return Error::WouldBlock;
    }
    m_free = r->next_free;
    r->next_free = nullptr;
    r->op = op;
    r->offset = offset;
    r->data = b != nullptr ? b->data() + off : nullptr;
    r->len = len;
    r->core = m_core;
    r->status = Error::Ok;
    r->buf = b;
    if (b != nullptr) m_heap->retain(b);  // held until core 0 hands the request back
    if (auto pushed = m_mesh.blk_forward(m_core, r); !pushed) {
        if (b != nullptr) m_heap->release(b);
        free_request(r);
        co_return pushed.error();
    }
    ++m_in_flight;
    Completion done(this, r);
    const Error status = co_await done;
    if (status != Error::Ok) co_return status;
    co_return Result<void>();
}

rt::Task<Result<void>> ForwardedBlock::write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    co_return co_await run(BlkOp::Write, offset, b, off, len);
}

rt::Task<Result<void>> ForwardedBlock::read(uint64_t offset, mem::Buffer* b, uint32_t len) {
    co_return co_await run(BlkOp::Read, offset, b, 0, len);
}

rt::Task<Result<void>> ForwardedBlock::flush() { co_return co_await run(BlkOp::Flush, 0, nullptr, 0, 0); }

uint32_t ForwardedBlock::poll(uint32_t max) {
    uint32_t n = 0;
    while (n < max) {
        BlkRequest* r = m_mesh.blk_take_done(m_core);
        if (r == nullptr) break;
        ++n;
        --m_in_flight;
        if (r->buf != nullptr) m_heap->release(r->buf);
        r->buf = nullptr;
        if (r->abandoned) {
            free_request(r);
            continue;
        }
        r->done = true;
        r->waker.wake();
    }
    return n;
}

ForwardedBlock::Completion::~Completion() {
    if (m_r->done) {
        m_f->free_request(m_r);
    } else {
        m_r->abandoned = true;  // core 0 still has it: poll() frees it when it comes back
        m_r->waker = rt::Waker{};
    }
}

// ---- BlkForwardServer: core 0 ----

Result<void> BlkForwardServer::start(rt::Executor& exec) {
    if (m_exec != nullptr) return Error::Busy;
    m_poller = TRY(exec.spawn(rt::poll_loop(exec, *this), rt::TaskClass::Poll));
    m_exec = &exec;
    return {};
}

void BlkForwardServer::stop_polling() {
    if (m_exec == nullptr) return;
    (void)m_exec->cancel(m_poller);
    m_exec = nullptr;
}

rt::Task<void> BlkForwardServer::serve_one(BlkRequest* r) {
    auto done = co_await m_target.serve(r->core, r->op, r->offset, r->data, r->len);
    r->status = done ? Error::Ok : done.error();
    --m_serving;
    m_mesh.blk_complete(r);
}

uint32_t BlkForwardServer::poll(uint32_t max) {
    uint32_t n = 0;
    for (uint32_t k = 1; k < m_mesh.cores(); ++k) {
        // The device's one interrupt line woke us (or we are awake anyway):
        // a sleeping core whose own queue has completions needs its doorbell.
        if (m_pending != nullptr && m_mesh.sleeping(k) && m_pending(k)) {
            ++m_doorbells;
            m_mesh.poke(0, k);
        }
        while (n < max) {
            BlkRequest* r = m_mesh.blk_take(k);
            if (r == nullptr) break;
            ++n;
            ++m_serving;
            // A task per request: it waits for a slot and for the device
            // as core 0's own requests do. None to be had: refuse it.
            if (!m_exec->spawn(serve_one(r))) {
                ++m_no_task;
                --m_serving;
                r->status = Error::WouldBlock;
                m_mesh.blk_complete(r);
            }
        }
    }
    return n;
}

}  // namespace ringlet::backend
