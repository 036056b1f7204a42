#include "libos/pdpix/libos.h"

#include <string.h>

#include <new>
#include <utility>

#include "libos/pdpix/errno_map.h"
#include "libos/pdpix/packed_copy.h"
#include "libos/rt/panic.h"

namespace ringlet::pdpix {

namespace {

// Only IPv4 addresses are valid on PDPIX sockets.
Result<sockaddr_in> ipv4(const sockaddr* addr, socklen_t size) {
    if (addr == nullptr || size < static_cast<socklen_t>(sizeof(sockaddr_in))) return Error::InvalidArgument;
    sockaddr_in in;
    copy_packed(&in, reinterpret_cast<const sockaddr_in*>(addr));
    if (in.sin_family != AF_INET) return Error::Unsupported;
    return in;
}
}  // namespace


LibOs::LibOs(Backend& backend, rt::FramePool pool, mem::DmaHeap heap, Storage* storage, rt::Platform* platform,
             uint32_t core)
    : m_core(core),
      m_backend(backend),
      m_storage(storage),
      m_heap(heap),
      m_pool(pool),
      m_exec(platform != nullptr ? *platform : backend.platform()) {
    rt::FramePool::install(&m_pool);
    rt::Executor::install(&m_exec);
    for (uint32_t i = 0; i < kMaxOps; ++i) {
        m_ops[i].next = i + 1;  // kMaxOps ends the list
        m_ops[i].result.qr_qt = free_mark(i);
        m_ops[i].waiter.os = this;
        m_ops[i].waiter.index = static_cast<uint16_t>(i);
    }
    // The done list's sentinel: an empty ring, itself both ends.
    m_ops[kMaxOps].next = kMaxOps;
    m_ops[kMaxOps].done_prev = kMaxOps;
}

LibOs::~LibOs() {
    for (uint32_t i = 0; i < kMaxOps; ++i) {
        if (m_ops[i].state == OpState::Pending) cancel_op(i);
    }
    for (uint32_t i = 0; i < kMaxQueues; ++i) {
        if (m_queues[i].queue != nullptr) drop(m_queues[i].queue);
    }
    // Poll tasks and anything the app spawned go with the executor.
}

Result<void> LibOs::start() { return m_backend.start(m_exec, m_heap); }

void LibOs::drop(Queue* q) {
    q->close();
    if (q == m_open_storage) {
        m_open_storage->~StorageQueue();
        m_open_storage = nullptr;
    } else {
        m_backend.destroy(q);
    }
}

Result<int> LibOs::install(Queue* q) {
    for (uint32_t i = 0; i < kMaxQueues; ++i) {
        if (m_queues[i].queue == nullptr) {
            m_queues[i].queue = q;
            return static_cast<int>(m_core * kMaxQueues + i);
        }
    }
    drop(q);
    return Error::Full;
}

Result<int> LibOs::socket(int domain, int type, int protocol) {
    if (domain != AF_INET) return Error::Unsupported;
    Queue* q = TRY(m_backend.socket(domain, type, protocol));
    return install(q);
}

Result<int> LibOs::create_pipe(const char* name) {
    if (name == nullptr || name[0] == '\0') return Error::InvalidArgument;
    Queue* q = TRY(m_backend.create_pipe(name));
    return install(q);
}

Result<int> LibOs::open_pipe(const char* name) {
    if (name == nullptr || name[0] == '\0') return Error::InvalidArgument;
    Queue* q = TRY(m_backend.open_pipe(name));
    return install(q);
}

Result<void> LibOs::bind(int qd, const sockaddr* addr, socklen_t size) {
    Queue* q = TRY(lookup(qd));
    const sockaddr_in in = TRY(ipv4(addr, size));
    return q->bind(in);
}

Result<void> LibOs::listen(int qd, int backlog) {
    Queue* q = TRY(lookup(qd));
    if (backlog < 0) return Error::InvalidArgument;
    return q->listen(backlog);
}

Result<void> LibOs::close(int qd) {
    Queue* q = TRY(lookup(qd));
    // Cancel first: the operations' frames hold pointers into the queue.
    // Only this queue's pending operations are visited: its parked pops
    // (the queue's own line of waiters) and its task-run ones (its list).
    while (PopWaiter* w = q->unpark_oldest()) {
        // Only start_pop parks, and only an op's waiter.
        auto* ow = static_cast<OpWaiter*>(w);
        if (ow->os != this) rt::panic("LibOs::close: a parked pop of another LibOs");
        m_ops[ow->index].parked = nullptr;
        cancel_for_close(ow->index);
    }
    Slot& slot = m_queues[static_cast<uint32_t>(qd) % kMaxQueues];
    while (slot.task_ops < kMaxOps) {
        const uint32_t i = slot.task_ops;
        unlink_task_op(i);
        cancel_for_close(i);
    }
    drop(q);
    slot.queue = nullptr;
    return {};
}

void LibOs::cancel_for_close(uint32_t i) {
    ++m_close_visits;
    cancel_op(i);
    finish(i, DEMI_OPC_FAILED, Error::Ok);
    m_ops[i].result.qr_ret = ECANCELED;
}

void LibOs::link_task_op(uint32_t i) {
    Op& op = m_ops[i];
    uint32_t& head = m_queues[static_cast<uint32_t>(op.result.qr_qd) % kMaxQueues].task_ops;
    op.done_prev = kMaxOps;
    op.next = head;
    if (head < kMaxOps) m_ops[head].done_prev = i;
    head = i;
}

void LibOs::unlink_task_op(uint32_t i) {
    Op& op = m_ops[i];
    if (op.done_prev < kMaxOps) {
        m_ops[op.done_prev].next = op.next;
    } else {
        m_queues[static_cast<uint32_t>(op.result.qr_qd) % kMaxQueues].task_ops = op.next;
    }
    if (op.next < kMaxOps) m_ops[op.next].done_prev = op.done_prev;
    op.done_prev = op.next = kMaxOps;
}

Result<void> LibOs::setsockopt(int qd, int level, int name, const void* val, socklen_t len) {
    Queue* q = TRY(lookup(qd));
    if (val == nullptr) return Error::InvalidArgument;
    return q->setsockopt(level, name, val, len);
}

Result<void> LibOs::getsockopt(int qd, int level, int name, void* val, socklen_t* len) {
    Queue* q = TRY(lookup(qd));
    if (val == nullptr || len == nullptr) return Error::InvalidArgument;
    return q->getsockopt(level, name, val, len);
}

Result<void> LibOs::getpeername(int qd, sockaddr* addr, socklen_t* len) {
    Queue* q = TRY(lookup(qd));
    if (addr == nullptr || len == nullptr) return Error::InvalidArgument;
    sockaddr_in in;
    TRY(q->getpeername(&in));
    const socklen_t n = *len < static_cast<socklen_t>(sizeof in) ? *len : static_cast<socklen_t>(sizeof in);
    memcpy(addr, &in, n);
    *len = sizeof in;
    return {};
}

Result<int> LibOs::blk_open() {
    if (m_storage == nullptr) return Error::NotFound;
    if (m_open_storage != nullptr) return Error::Busy;
    BlockDevice* dev = TRY(m_storage->open(m_exec, m_heap));
    m_open_storage = new (m_storage_queue) StorageQueue(*m_storage, *dev, m_heap);
    return install(m_open_storage);
}

Result<uint64_t> LibOs::capacity(int qd) {
    Queue* q = TRY(lookup(qd));
    return q->capacity();
}

Result<demi_sgarray_t> LibOs::sgaalloc(size_t len) {
    if (len == 0 || len > m_heap.largest() - mem::DmaHeap::kHeadroom) return Error::InvalidArgument;
    // Headroom in front: a push prepends its headers (and the device's) in
    // place, so the app's bytes leave as they are, in one descriptor.
    mem::Buffer* b = TRY(m_heap.alloc(len + mem::DmaHeap::kHeadroom));
    b->off = mem::DmaHeap::kHeadroom;
    b->len = static_cast<uint32_t>(len);
    demi_sgarray_t sga;
    memset(&sga, 0, sizeof sga);
    sga.sga_numsegs = 1;
    sga.sga_segs[0].sgaseg_buf = b->begin();
    sga.sga_segs[0].sgaseg_len = static_cast<uint32_t>(len);
    return sga;
}

// ---- operations ----

Result<demi_qtoken_t> LibOs::launch(uint32_t i, rt::Task<void> task) {
    auto id = m_exec.spawn(std::move(task));
    if (!id.ok()) {
        // The refused frame dropped what it held; the token was never given
        // (never Done, so not on the done list: consume's unlink is a no-op
        // only for a listed op, hence finish() first).
        finish(i, DEMI_OPC_FAILED, Error::Ok);
        demi_qresult_t unused;
        consume(i, &unused);
        return id.error();
    }
    m_ops[i].task = *id;
    m_ops[i].has_task = true;
    link_task_op(i);
    return token(i);
}

void LibOs::cancel_op(uint32_t i) {
    Op& op = m_ops[i];
    if (op.has_task) (void)m_exec.cancel(op.task);
    op.has_task = false;
    if (op.parked != nullptr) op.parked->unpark_pop(&op.waiter);
    op.parked = nullptr;
}

uint32_t LibOs::pending_ops() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < kMaxOps; ++i) n += m_ops[i].state != OpState::Free ? 1 : 0;
    return n;
}

rt::Task<void> LibOs::run_push(uint32_t i, uint32_t gen, Queue* q, PushTurn turn, mem::BufferRef ref, uint32_t off,
                               uint32_t len, bool has_to, sockaddr_in to) {
    while (!turn.first()) co_await q->push_line_moved();
    auto r = co_await q->push(ref.get(), off, len, has_to ? &to : nullptr);
    if (m_ops[i].gen == gen) finish_task(i, DEMI_OPC_PUSH, r.error());
}

// Inline (OpWaiter::complete, start_pop): a datagram for a parked pop
// completes it with no further call.
[[gnu::always_inline]] inline void LibOs::finish_pop(uint32_t i, uint32_t gen, const Result<mem::Buffer*>& r,
                                                     const sockaddr_in& from) {
    if (m_ops[i].gen != gen) {
        if (r.ok()) m_heap.release(*r);  // nobody is left to own it
        return;
    }
    if (m_ops[i].has_task) unlink_task_op(i);  // run_pop, run_popat
    if (r.ok()) {
        demi_sgarray_t& sga = m_ops[i].result.qr_value.sga;
        sga.sga_buf = nullptr;
        sga.sga_numsegs = 1;
        sga.sga_segs[0].sgaseg_buf = (*r)->begin();
        sga.sga_segs[0].sgaseg_len = (*r)->len;
        copy_bytes<sizeof from>(reinterpret_cast<unsigned char*>(&sga) + offsetof(demi_sgarray_t, sga_addr), &from);
    }
    finish(i, DEMI_OPC_POP, r.error());
}

void LibOs::finish_pop_now(uint32_t i, const Result<mem::Buffer*>& r, const sockaddr_in& from) {
    finish_pop(i, m_ops[i].gen, r, from);
}

// Runs in the queue's receive path for every datagram a parked pop takes:
// written out rather than through finish_pop(), whose check of the op's
// generation cannot fail here (a parked op is live until it completes or is
// unparked) and would be reloaded after the stores.
void LibOs::OpWaiter::complete(const Result<mem::Buffer*>& r, const sockaddr_in& from) {
    LibOs& l = *os;
    const uint32_t i = index;
    Op& op = l.m_ops[i];
    // r read once, before the stores (which the compiler must assume
    // could change it).
    const Error e = r.error();
    mem::Buffer* const b = e == Error::Ok ? *r : nullptr;
    op.parked = nullptr;
    if (e == Error::Ok) {
        demi_sgarray_t& sga = op.result.qr_value.sga;
        sga.sga_buf = nullptr;
        sga.sga_numsegs = 1;
        sga.sga_segs[0].sgaseg_buf = b->begin();
        sga.sga_segs[0].sgaseg_len = b->len;
        // Both 4-aligned: a sockaddr_in, and its place in the 8-aligned result.
        copy_halves<sizeof from>(reinterpret_cast<unsigned char*>(&sga) + offsetof(demi_sgarray_t, sga_addr), &from);
    }
    l.finish(i, DEMI_OPC_POP, e);
}

rt::Task<void> LibOs::run_pop(uint32_t i, uint32_t gen, Queue* q) {
    sockaddr_in from{};
    auto r = co_await q->pop(&from);
    finish_pop(i, gen, r, from);
}

rt::Task<void> LibOs::run_accept(uint32_t i, uint32_t gen, Queue* q) {
    sockaddr_in peer{};
    auto r = co_await q->accept(&peer);
    if (m_ops[i].gen != gen) co_return;
    Error e = r.error();
    if (r.ok()) {
        auto qd = install(*r);
        if (qd.ok()) {
            memset(&m_ops[i].result.qr_value, 0, sizeof m_ops[i].result.qr_value);
            m_ops[i].result.qr_value.ares.qd = *qd;
            m_ops[i].result.qr_value.ares.addr = peer;
        }
        e = qd.error();
    }
    finish_task(i, DEMI_OPC_ACCEPT, e);
}

rt::Task<void> LibOs::run_connect(uint32_t i, uint32_t gen, Queue* q, sockaddr_in to) {
    auto r = co_await q->connect(to);
    if (m_ops[i].gen == gen) finish_task(i, DEMI_OPC_CONNECT, r.error());
}

Result<demi_qtoken_t> LibOs::push_copied_to(int qd, Queue* q, const Slice& s, const demi_sgarray_t* sga,
                                            const sockaddr* to, socklen_t size) {
    const sockaddr_in dest = TRY(ipv4(to, size));
    return push_slice(qd, q, s, sga, &dest);
}

Result<demi_qtoken_t> LibOs::launch_pop(uint32_t i, Queue* q) { return launch(i, run_pop(i, m_ops[i].gen, q)); }

Result<demi_qtoken_t> LibOs::launch_push(uint32_t i, Queue* q, const Slice& s, const sockaddr_in* to) {
    // The push holds its own reference from now on, so demi_sgafree right
    // after demi_push only defers the free.
    m_heap.retain(s.buf);
    sockaddr_in dest{};
    if (to != nullptr) copy_packed(&dest, to);  // the task keeps its own copy
    // Its place in the queue's line is taken here, at the call.
    return launch(i, run_push(i, m_ops[i].gen, q, PushTurn(*q), mem::BufferRef::adopt(&m_heap, s.buf), s.off, s.len,
                              to != nullptr, dest));
}

Result<demi_qtoken_t> LibOs::start_accept(int qd) {
    Queue* q = TRY(lookup(qd));
    const uint32_t i = TRY(new_op(qd, DEMI_OPC_ACCEPT));
    return launch(i, run_accept(i, m_ops[i].gen, q));
}

Result<demi_qtoken_t> LibOs::start_connect(int qd, const sockaddr* addr, socklen_t size) {
    Queue* q = TRY(lookup(qd));
    const sockaddr_in to = TRY(ipv4(addr, size));
    const uint32_t i = TRY(new_op(qd, DEMI_OPC_CONNECT));
    return launch(i, run_connect(i, m_ops[i].gen, q, to));
}

// ---- storage operations ----

rt::Task<void> LibOs::run_pushat(uint32_t i, uint32_t gen, Queue* q, mem::BufferRef ref, uint32_t off, uint32_t len,
                                 uint64_t offset) {
    auto r = co_await q->pushat(ref.get(), off, len, offset);
    if (m_ops[i].gen == gen) finish_task(i, DEMI_OPC_PUSH, r.error());
}

rt::Task<void> LibOs::run_popat(uint32_t i, uint32_t gen, Queue* q, uint64_t offset, uint32_t len) {
    auto r = co_await q->popat(offset, len);
    finish_pop(i, gen, r, sockaddr_in{});
}

rt::Task<void> LibOs::run_flush(uint32_t i, uint32_t gen, Queue* q) {
    auto r = co_await q->flush();
    if (m_ops[i].gen == gen) finish_task(i, DEMI_OPC_PUSH, r.error());
}

Result<demi_qtoken_t> LibOs::start_pushat(int qd, const demi_sgarray_t* sga, uint64_t offset) {
    Queue* q = TRY(lookup(qd));
    const Slice s = TRY(pushable(sga));
    const uint32_t i = TRY(new_op(qd, DEMI_OPC_PUSH));
    // As demi_push: the result names the sga, which stays the app's; the
    // write holds its own reference until the device is done.
    m_ops[i].result.qr_value.sga = *sga;
    m_heap.retain(s.buf);
    return launch(i, run_pushat(i, m_ops[i].gen, q, mem::BufferRef::adopt(&m_heap, s.buf), s.off, s.len, offset));
}

Result<demi_qtoken_t> LibOs::start_popat(int qd, uint64_t offset, uint32_t len) {
    Queue* q = TRY(lookup(qd));
    const uint32_t i = TRY(new_op(qd, DEMI_OPC_POP));
    return launch(i, run_popat(i, m_ops[i].gen, q, offset, len));
}

Result<demi_qtoken_t> LibOs::start_flush(int qd) {
    Queue* q = TRY(lookup(qd));
    const uint32_t i = TRY(new_op(qd, DEMI_OPC_PUSH));
    memset(&m_ops[i].result.qr_value, 0, sizeof m_ops[i].result.qr_value);  // an empty sga
    return launch(i, run_flush(i, m_ops[i].gen, q));
}

}  // namespace ringlet::pdpix
