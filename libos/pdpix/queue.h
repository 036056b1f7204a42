// Queue and Backend: the one transport interface every backend implements.
//
// Backends: host loopback (in-process queues, tests), Linux sockets (epoll),
// and later `ringlet` (virtio-net + lwIP on the target, see net/). The PDPIX
// layer (libos.h) owns qds, qtokens and the DMA heap; a backend only moves
// buffers. Operations that may wait are Tasks run on the core's executor;
// they must unregister everything in destructors so close can cancel them.
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "libos/mem/dma_heap.h"
#include "libos/rt/executor.h"
#include "libos/rt/notifier.h"
#include "libos/rt/task.h"
#include "ringlet/result.h"

namespace ringlet::pdpix {

class Queue;

// An operation parked on a queue until data arrives (a demi_pop that found
// nothing): the queue completes it straight from its receive path, so a
// pop that has to wait costs no task. Intrusive FIFO link; owned by the
// PDPIX layer's operation table.
class PopWaiter {
public:
    // The popped buffer (the waiter's owner takes the reference; its valid
    // bytes are b->begin()[0, b->len)) or the error, and for datagrams the
    // source. Runs inside the backend's receive path: record, never block.
    virtual void complete(const Result<mem::Buffer*>& r, const sockaddr_in& from) = 0;

protected:
    ~PopWaiter() = default;

private:
    friend class Queue;
    PopWaiter* m_next = nullptr;
};

// A push's place in its queue's line. Pushes on one queue take effect in the
// order they were issued (demi_push order), whatever order the executor runs
// their tasks in: the place is taken when the push is issued, and the push
// starts only once it is first. It moves with the push into its task's
// frame; leaving the line (done, failed, cancelled) lets the next one go.
class PushTurn {
public:
    explicit PushTurn(Queue& q);
    PushTurn(PushTurn&& other);
    PushTurn(const PushTurn&) = delete;
    PushTurn& operator=(const PushTurn&) = delete;
    PushTurn& operator=(PushTurn&&) = delete;
    ~PushTurn();
    // Whether every push issued before this one has finished.
    bool first() const;

private:
    Queue* m_q;
    PushTurn* m_prev;
    PushTurn* m_next = nullptr;
};

class Queue {
public:
    virtual ~Queue() = default;

    // Waits for the line of pushes to move: `while (!turn.first()) co_await
    // q->push_line_moved();` before calling push().
    rt::Notifier::Awaiter push_line_moved() { return m_push_line.wait(); }

    // Whether no push is in line: a new push may then run at once.
    bool push_line_empty() const { return m_push_head == nullptr; }

    // --- the inline fast path (no task): backends that can answer at once
    // override these; WouldBlock sends the PDPIX layer to the task path. ---
    // Sends buffer b's bytes data()[off, off + len) now (to `to` for
    // datagrams) if that needs no waiting; the caller keeps its reference
    // for the call only (a backend that holds the bytes longer retains).
    virtual Result<void> try_push(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in* to) {
        (void)b, (void)off, (void)len, (void)to;
        return Error::WouldBlock;
    }
    // A received buffer if one is waiting (caller owns it; valid bytes at
    // b->begin()), else WouldBlock.
    virtual Result<mem::Buffer*> try_pop(sockaddr_in* from) {
        (void)from;
        return Error::WouldBlock;
    }
    // Parks w until data arrives (after try_pop said WouldBlock); false if
    // this backend cannot complete pops itself (then a task waits).
    virtual bool park_pop(PopWaiter* w) {
        (void)w;
        return false;
    }
    // Takes a parked waiter back (its operation was cancelled).
    void unpark_pop(PopWaiter* w);
    // Takes every parked waiter back, oldest first, for the queue's close
    // (nullptr once none is left): O(1) each, where unpark_pop() walks.
    PopWaiter* unpark_oldest() { return take_parked_pop(); }

    // Synchronous socket setup; Unsupported unless the backend overrides.
    virtual Result<void> bind(const sockaddr_in& addr) { (void)addr; return Error::Unsupported; }
    virtual Result<void> listen(int backlog) { (void)backlog; return Error::Unsupported; }

    // Waits for one connection; writes the peer address.
    virtual rt::Task<Result<Queue*>> accept(sockaddr_in* peer);
    // Connects a stream socket.
    virtual rt::Task<Result<void>> connect(sockaddr_in addr);
    // Sends b->data()[off, off + len) (to `to` for datagrams when
    // non-null). The caller holds a reference to b until the task finishes.
    virtual rt::Task<Result<void>> push(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in* to);
    // Receives into a buffer owned by the caller, its bytes at b->begin()
    // (b->len of them; 0 means end of stream). Writes the source address
    // for datagrams.
    virtual rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from);

    // Storage queues (storage.h): write b->data()[off, off + len) at a byte offset,
    // read len bytes at one into a new buffer, flush, size in bytes.
    virtual rt::Task<Result<void>> pushat(mem::Buffer* b, uint32_t off, uint32_t len, uint64_t offset);
    virtual rt::Task<Result<mem::Buffer*>> popat(uint64_t offset, uint32_t len);
    virtual rt::Task<Result<void>> flush();
    virtual Result<uint64_t> capacity() { return Error::Unsupported; }

    // Releases the backend resources; pending tasks were cancelled already.
    virtual void close() {}

    virtual Result<void> setsockopt(int level, int name, const void* val, socklen_t len) {
        (void)level, (void)name, (void)val, (void)len;
        return Error::Unsupported;
    }
    virtual Result<void> getsockopt(int level, int name, void* val, socklen_t* len) {
        (void)level, (void)name, (void)val, (void)len;
        return Error::Unsupported;
    }
    virtual Result<void> getpeername(sockaddr_in* out) { (void)out; return Error::Unsupported; }

protected:
    bool has_parked_pops() const { return m_pop_head != nullptr; }
    // The oldest parked pop, removed from the line; nullptr if none.
    // Inline, as park(): a backend takes or parks one per datagram.
    PopWaiter* take_parked_pop() {
        PopWaiter* w = m_pop_head;
        if (w == nullptr) return nullptr;
        m_pop_head = w->m_next;
        if (m_pop_head == nullptr) m_pop_tail = nullptr;
        w->m_next = nullptr;
        return w;
    }
    void park(PopWaiter* w) {
        w->m_next = nullptr;
        (m_pop_tail != nullptr ? m_pop_tail->m_next : m_pop_head) = w;
        m_pop_tail = w;
    }

private:
    friend class PushTurn;
    PopWaiter* m_pop_head = nullptr;
    PopWaiter* m_pop_tail = nullptr;
    PushTurn* m_push_head = nullptr;  // the push that may run
    PushTurn* m_push_tail = nullptr;
    rt::Notifier m_push_line;
};

class Backend {
public:
    virtual ~Backend() = default;
    // The platform the executor blocks through (epoll, nanosleep, wait syscall).
    virtual rt::Platform& platform() = 0;
    // Called once the executor and heap exist: spawn poll tasks here.
    virtual Result<void> start(rt::Executor& exec, mem::DmaHeap& heap) = 0;
    virtual Result<Queue*> socket(int domain, int type, int protocol) {
        (void)domain, (void)type, (void)protocol;
        return Error::Unsupported;
    }
    virtual Result<Queue*> create_pipe(const char* name) { (void)name; return Error::Unsupported; }
    virtual Result<Queue*> open_pipe(const char* name) { (void)name; return Error::Unsupported; }
    // Frees a queue made by this backend (after close()).
    virtual void destroy(Queue* q) = 0;
};

}  // namespace ringlet::pdpix
