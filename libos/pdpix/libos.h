// LibOs: one core's PDPIX state: queue table, operation (qtoken) table, DMA
// heap, frame pool and executor, over one Backend. The demi_* C functions
// (demi_api.cc) are thin wrappers; C++ apps can use the awaitable face
// (pop/push/pushto/accept/connect) from their own tasks instead.
#pragma once

#include <stdint.h>

#include "demi/types.h"
#include "libos/mem/dma_heap.h"
#include "libos/pdpix/queue.h"
#include "libos/rt/executor.h"
#include "libos/rt/frame_pool.h"

namespace ringlet::pdpix {

// A received sga (owned by the app) and, for datagrams, its source.
struct Popped {
    demi_sgarray_t sga;
};
struct Accepted {
    int qd;
    sockaddr_in peer;
};

class LibOs {
public:
    static constexpr uint32_t kMaxQueues = 1024;
    static constexpr uint32_t kMaxOps = 1024;

    // Wires the pieces together; the regions must outlive the LibOs.
    LibOs(Backend& backend, rt::FramePool pool, mem::DmaHeap heap);
    ~LibOs();
    LibOs(const LibOs&) = delete;
    LibOs& operator=(const LibOs&) = delete;

    // Starts the backend (spawns its poll tasks). Call once after construction.
    Result<void> start();

    // --- synchronous calls; qd errors are BadCapability (EBADF) ---
    Result<int> socket(int domain, int type, int protocol);
    Result<int> create_pipe(const char* name);
    Result<int> open_pipe(const char* name);
    Result<void> bind(int qd, const sockaddr* addr, socklen_t size);
    Result<void> listen(int qd, int backlog);
    // Closes qd; its pending C operations complete as FAILED/ECANCELED.
    Result<void> close(int qd);
    Result<void> setsockopt(int qd, int level, int name, const void* val, socklen_t len);
    Result<void> getsockopt(int qd, int level, int name, void* val, socklen_t* len);
    Result<void> getpeername(int qd, sockaddr* addr, socklen_t* len);
    Result<demi_sgarray_t> sgaalloc(size_t len);
    Result<void> sgafree(demi_sgarray_t* sga);

    // --- asynchronous C operations: each returns a fresh qtoken ---
    Result<demi_qtoken_t> start_push(int qd, const demi_sgarray_t* sga, const sockaddr* to, socklen_t size);
    Result<demi_qtoken_t> start_pop(int qd);
    Result<demi_qtoken_t> start_accept(int qd);
    Result<demi_qtoken_t> start_connect(int qd, const sockaddr* addr, socklen_t size);

    // --- waits; return 0 or a positive errno (see demi/wait.h) ---
    int wait(demi_qresult_t* out, demi_qtoken_t qt, const timespec* timeout);
    int wait_any(demi_qresult_t* out, int* offset, const demi_qtoken_t* qts, int n, const timespec* timeout);
    int wait_all(demi_qresult_t* out, const demi_qtoken_t* qts, int n, const timespec* timeout);
    int wait_next_n(demi_qresult_t* out, int n, int* written, const timespec* timeout);

    // --- the C++ face: awaitable from tasks on this core's executor ---
    rt::Task<Result<Popped>> pop(int qd);
    rt::Task<Result<void>> push(int qd, demi_sgarray_t sga);
    rt::Task<Result<void>> pushto(int qd, demi_sgarray_t sga, sockaddr_in to);
    rt::Task<Result<Accepted>> accept(int qd);
    rt::Task<Result<void>> connect(int qd, sockaddr_in to);

    rt::Executor& executor() { return m_exec; }
    mem::DmaHeap& heap() { return m_heap; }
    rt::FramePool& frame_pool() { return m_pool; }
    uint32_t pending_ops() const;

    // The instance demi_* calls use (set by demi_init).
    static LibOs* instance();
    static void set_instance(LibOs* os);

private:
    enum class OpState : uint8_t { Free, Pending, Done };
    struct Op {
        OpState state = OpState::Free;
        bool waiting = false;    // a wait holds this token now
        uint32_t gen = 0;        // bumped when the token is consumed
        uint64_t done_seq = 0;   // completion order, for wait_next_n
        int qd = -1;
        rt::TaskId task;
        demi_qresult_t result{};
    };
    struct Slot {
        Queue* queue = nullptr;
    };

    Result<Queue*> lookup(int qd);
    Result<int> install(Queue* q);
    Result<uint32_t> new_op(int qd, demi_opcode_t opc);
    demi_qtoken_t token(uint32_t op) const;
    // EINVAL malformed, ESTALE consumed, else 0 with *op set.
    int decode(demi_qtoken_t qt, uint32_t* op) const;
    void finish(uint32_t op, demi_opcode_t opc, Error e);
    void consume(uint32_t op, demi_qresult_t* out);
    uint64_t deadline(const timespec* timeout);
    // Runs the executor until pred() or the deadline: 0 or ETIMEDOUT.
    template <typename Pred>
    int run_until(Pred pred, uint64_t deadline);
    Result<mem::Buffer*> pushable(const demi_sgarray_t* sga);

    rt::Task<void> run_push(uint32_t op, uint32_t gen, Queue* q, mem::BufferRef ref, uint32_t len, bool has_to,
                            sockaddr_in to);
    rt::Task<void> run_pop(uint32_t op, uint32_t gen, Queue* q);
    rt::Task<void> run_accept(uint32_t op, uint32_t gen, Queue* q);
    rt::Task<void> run_connect(uint32_t op, uint32_t gen, Queue* q, sockaddr_in to);

    Backend& m_backend;
    rt::FramePool m_pool;
    mem::DmaHeap m_heap;
    rt::Executor m_exec;
    uint64_t m_done_seq = 0;
    Slot m_queues[kMaxQueues];
    Op m_ops[kMaxOps];
};

}  // namespace ringlet::pdpix
