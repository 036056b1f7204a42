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

    // Synchronous socket setup; Unsupported unless the backend overrides.
    virtual Result<void> bind(const sockaddr_in& addr) { (void)addr; return Error::Unsupported; }
    virtual Result<void> listen(int backlog) { (void)backlog; return Error::Unsupported; }

    // Waits for one connection; writes the peer address.
    virtual rt::Task<Result<Queue*>> accept(sockaddr_in* peer);
    // Connects a stream socket.
    virtual rt::Task<Result<void>> connect(sockaddr_in addr);
    // Sends b->data()[0, len) (to `to` for datagrams when non-null). The
    // caller holds a reference to b until the task finishes.
    virtual rt::Task<Result<void>> push(mem::Buffer* b, uint32_t len, const sockaddr_in* to);
    // Receives into a new buffer owned by the caller; len 0 means end of
    // stream. Writes the source address for datagrams.
    virtual rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from);

    // Storage queues (storage.h): write b->data()[0, len) at a byte offset,
    // read len bytes at one into a new buffer, flush, size in bytes.
    virtual rt::Task<Result<void>> pushat(mem::Buffer* b, uint32_t len, uint64_t offset);
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

private:
    friend class PushTurn;
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
