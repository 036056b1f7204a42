// LibOs: one core's PDPIX state: queue table, operation (qtoken) table, DMA
// heap, frame pool and executor, over one Backend. The demi_* C functions
// (demi_api.cc) are thin wrappers; C++ apps can use the awaitable face
// (pop/push/pushto/accept/connect) from their own tasks instead.
#pragma once

#include <errno.h>
#include <stdint.h>

#include "demi/types.h"
#include "libos/mem/dma_heap.h"
#include "libos/pdpix/packed_copy.h"
#include "libos/pdpix/queue.h"
#include "libos/pdpix/storage.h"
#include "libos/rt/executor.h"
#include "libos/rt/frame_pool.h"

namespace ringlet::pdpix {

// A received sga (owned by the app) and, for datagrams, its source. Its
// bytes lie in the buffer they arrived in (zero-copy): the segment points
// into it wherever the payload starts; demi_sgafree takes that pointer.
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
    // One LibOs per core. A qd names its core (qd / kMaxQueues): a queue is
    // used only on the core that made it, and another core's qd is refused
    // with WrongCore (EXDEV), never raced on.
    static constexpr uint32_t kMaxCores = 8;

    // Wires the pieces together; the regions must outlive the LibOs.
    // `storage` (may be null: no block device) serves blk_open(); the
    // executor sleeps through `platform`, else through the backend's.
    LibOs(Backend& backend, rt::FramePool pool, mem::DmaHeap heap, Storage* storage = nullptr,
          rt::Platform* platform = nullptr, uint32_t core = 0);
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
    bool sgafree_shared(const demi_sgarray_t* sga);

    // --- storage (storage.h): one queue on the machine's block device ---
    // A storage queue: NotFound without a block device (ENODEV at the C
    // boundary), Busy while one is open.
    Result<int> blk_open();
    Result<uint64_t> capacity(int qd);

    // --- asynchronous C operations: each returns a fresh qtoken ---
    // (start_push and start_pop are inline: libos_start.h)
    Result<demi_qtoken_t> start_push(int qd, const demi_sgarray_t* sga, const sockaddr* to, socklen_t size);
    Result<demi_qtoken_t> start_pop(int qd);
    Result<demi_qtoken_t> start_accept(int qd);
    Result<demi_qtoken_t> start_connect(int qd, const sockaddr* addr, socklen_t size);
    // Storage: write sga at a byte offset (completes as a PUSH), read len
    // bytes at one (a POP whose sga the app owns), flush (a PUSH of no sga).
    Result<demi_qtoken_t> start_pushat(int qd, const demi_sgarray_t* sga, uint64_t offset);
    Result<demi_qtoken_t> start_popat(int qd, uint64_t offset, uint32_t len);
    Result<demi_qtoken_t> start_flush(int qd);

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
    // Operations taken and not yet consumed. A diagnostic (tests): it
    // counts the table, so starting and consuming an op keep no count.
    uint32_t pending_ops() const;
    uint32_t core() const { return m_core; }
    // Test hook: operations close() has cancelled so far. close() visits
    // only the queue's own pending operations (its parked pops and its
    // task-run operations), never the whole table.
    uint64_t close_visits() const { return m_close_visits; }

    // The instance demi_* calls on this core use (set by demi_init on this
    // core). Inline: every demi_* call asks.
    static LibOs* instance() { return s_instance; }
    static void set_instance(LibOs* os) { s_instance = os; }

private:
    enum class OpState : uint8_t { Free, Pending, Done };
    // A pop parked on its queue completes through this (no task).
    class OpWaiter final : public PopWaiter {
    public:
        void complete(const Result<mem::Buffer*>& r, const sockaddr_in& from) override;
        LibOs* os = nullptr;
        uint16_t index = 0;  // 16 bits, as an op's links: loaded zero-extended
    };
    // 128 bytes, a power of two: an op's address is one shift from its
    // index, and each field one load from there (every start, completion
    // and wait computes it). The result comes first, 8-aligned, so it is
    // copied out in words (packed_copy.h).
    struct Op {
        alignas(8) demi_qresult_t result{};  // qr_qd names the op's queue (close() cancels by it)
        OpWaiter waiter;
        rt::TaskId task;
        Queue* parked = nullptr;  // the queue a pop waits on (through `waiter`)
        uint32_t gen = 0;         // bumped when the token is consumed
        // While Free: the next free operation (kMaxOps: none); while Done:
        // the next on the done list, a ring through the sentinel op
        // m_ops[kMaxOps] (so linking and unlinking take no branch). The
        // done list keeps completion order, so wait_next_n finds the oldest
        // result in O(1) instead of scanning every operation for each one
        // it returns. While Pending
        // with a task (has_task): the links of its queue's task list
        // (Slot::task_ops), which close() walks. A pending op without a
        // task is parked on its queue (close() drains the queue's parked
        // pops) or about to complete inline: neither is ever linked.
        // 16 bits: loaded zero-extended, ready to index with.
        uint16_t next = 0;
        uint16_t done_prev = kMaxOps;
        OpState state = OpState::Free;
        bool waiting = false;   // a wait holds this token now
        bool has_task = false;  // a task carries it out (else inline or parked)
    };
    static_assert(sizeof(Op) == 128, "an op is one shift from its index");
    static_assert((kMaxOps & (kMaxOps - 1)) == 0, "a token's index is masked, not divided");
    static_assert(kMaxOps < 0xffff, "an op's links are 16 bits");
    // An sga's bytes: the buffer holding them and where they are in it.
    struct Slice {
        mem::Buffer* buf;
        uint32_t off;
        uint32_t len;
    };
    struct Slot {
        Queue* queue = nullptr;
        uint32_t task_ops = kMaxOps;  // head of its pending task-run ops (kMaxOps: none)
    };

    // lookup, take_op, new_op, token and finish: libos_start.h (inline).
    Result<Queue*> lookup(int qd);
    Result<int> install(Queue* q);
    uint32_t take_op(int qd, demi_opcode_t opc);
    Result<uint32_t> new_op(int qd, demi_opcode_t opc);
    demi_qtoken_t token(uint32_t op) const;
    // Token layout: tag (8 bits) | generation (24) | op index (32). The tag
    // makes a random or zero value malformed rather than a valid-looking token.
    static constexpr uint64_t kTokenTag = 0x52;  // 'R'
    // EINVAL malformed, ESTALE consumed, else 0 with *op set. Inline:
    // every wait decodes each of its tokens. A live op holds its own token
    // (result.qr_qt), a free one a value no token can equal (free_mark), so
    // one compare settles a valid token; which error it is, only on a miss.
    int decode(demi_qtoken_t qt, uint32_t* op) const {
        const uint32_t i = index_of(qt);
        if (m_ops[i].result.qr_qt == qt) [[likely]] {
            *op = i;
            return 0;
        }
        return decode_error(qt);
    }
    // A token that names no live op: EINVAL malformed, else ESTALE.
    static int decode_error(demi_qtoken_t qt) {
        return (qt >> 56) != kTokenTag || (qt & 0xffffffff) >= kMaxOps ? EINVAL : ESTALE;
    }
    // What a free op i holds as its token: it names op i ^ 1 (and lacks the
    // tag), so it equals neither op i's token nor that of op i ^ 1.
    static constexpr demi_qtoken_t free_mark(uint32_t i) { return i ^ 1u; }
    void finish(uint32_t op, demi_opcode_t opc, Error e);
    // Hands op's result to out and frees the op. Inline and a leaf when out
    // is 8-aligned (as the app's results are): a word copy.
    void consume(uint32_t op, demi_qresult_t* out);
    // consume() into a misaligned out: through an aligned copy. Out of line.
    [[gnu::noinline]] void consume_misaligned(uint32_t op, demi_qresult_t* out);
    // Takes a Done operation off the done list (every Done one is on it).
    void unlink_done(uint32_t op);
    uint64_t deadline(const timespec* timeout);
    static bool bad_timeout(const timespec* t) {
        return t != nullptr && (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1'000'000'000);
    }
    // wait() of op i that is not complete (or is another wait's: EALREADY):
    // runs the executor. Out of line, so a wait on a completed operation
    // stays a small inline call.
    [[gnu::noinline]] int wait_blocking(demi_qresult_t* out, uint32_t i, const timespec* timeout);
    // The op index a token names (its low word; taken modulo the table,
    // so any value reads inside it).
    static uint32_t index_of(demi_qtoken_t qt) { return static_cast<uint32_t>(qt) % kMaxOps; }
    // Runs the executor until pred() or the deadline: 0 or ETIMEDOUT.
    template <typename Pred>
    int run_until(Pred pred, uint64_t deadline);
    Result<Slice> pushable(const demi_sgarray_t* sga);
    // start_push() after its checks: completes at once or launches a task.
    Result<demi_qtoken_t> push_slice(int qd, Queue* q, const Slice& s, const demi_sgarray_t* sga,
                                     const sockaddr_in* dest);
    // start_push() to an address it must copy first (misaligned, or too
    // short: then the error). Out of line: rare.
    [[gnu::noinline]] Result<demi_qtoken_t> push_copied_to(int qd, Queue* q, const Slice& s,
                                                           const demi_sgarray_t* sga, const sockaddr* to,
                                                           socklen_t size);
    // Stops op i's task or takes it off the queue it is parked on.
    void cancel_op(uint32_t i);
    // The task list of op i's queue (a pending op that runs in a task):
    // linked at launch, unlinked when the task finishes it or close()
    // cancels it. O(1) each.
    void link_task_op(uint32_t i);
    void unlink_task_op(uint32_t i);
    // finish() of an op whose task carries it out: off its queue's list first.
    void finish_task(uint32_t i, demi_opcode_t opc, Error e) {
        unlink_task_op(i);
        finish(i, opc, e);
    }
    // close(): op i (Pending, on no list any more) completes as cancelled.
    void cancel_for_close(uint32_t i);
    // Closes and frees a queue, whichever made it.
    void drop(Queue* q);
    // start_pop()/start_push() of an op that must wait in a task (a backend
    // that can neither complete nor park it, a push behind others): out of
    // line, so the inline paths save no registers for a coroutine's start.
    [[gnu::noinline]] Result<demi_qtoken_t> launch_pop(uint32_t i, Queue* q);
    [[gnu::noinline]] Result<demi_qtoken_t> launch_push(uint32_t i, Queue* q, const Slice& s, const sockaddr_in* to);
    // Spawns `task` for op i; frees the op if the executor refuses it.
    Result<demi_qtoken_t> launch(uint32_t i, rt::Task<void> task);

    rt::Task<void> run_push(uint32_t op, uint32_t gen, Queue* q, PushTurn turn, mem::BufferRef ref, uint32_t off,
                            uint32_t len, bool has_to, sockaddr_in to);
    rt::Task<void> run_pop(uint32_t op, uint32_t gen, Queue* q);
    // Completes pop op i with r (its sga, owned by the app) unless the op
    // was consumed meanwhile (then the buffer is released).
    void finish_pop(uint32_t op, uint32_t gen, const Result<mem::Buffer*>& r, const sockaddr_in& from);
    // finish_pop() out of line, for start_pop(): a pop that finds data
    // queued is rarer than one that parks, which should save no registers.
    [[gnu::noinline]] void finish_pop_now(uint32_t op, const Result<mem::Buffer*>& r, const sockaddr_in& from);
    rt::Task<void> run_accept(uint32_t op, uint32_t gen, Queue* q);
    rt::Task<void> run_connect(uint32_t op, uint32_t gen, Queue* q, sockaddr_in to);
    rt::Task<void> run_pushat(uint32_t op, uint32_t gen, Queue* q, mem::BufferRef ref, uint32_t off, uint32_t len,
                              uint64_t offset);
    rt::Task<void> run_popat(uint32_t op, uint32_t gen, Queue* q, uint64_t offset, uint32_t len);
    rt::Task<void> run_flush(uint32_t op, uint32_t gen, Queue* q);

    // Per core: each core of an app runs its own LibOs (thread-local, via tp).
    static inline thread_local LibOs* s_instance = nullptr;

    // Order matters for the hot paths: the scalars every operation touches
    // and the op table sit at small offsets from `this` (one instruction
    // to reach), the large and rarely touched parts after them.
    uint32_t m_core;
    uint16_t m_free_op = 0;  // head of the free operations (kMaxOps: none); 16 bits as an op's links
    // The completions so far (wait_any looks at its tokens again only
    // after one). At offset 16 as when a counter sat before it: with the
    // op table 8 bytes nearer, GCC's code for demi_pop and
    // OpWaiter::complete came out 3-4 instructions longer (measured).
    alignas(16) uint64_t m_done_seq = 0;
    uint64_t m_close_visits = 0;
    Backend& m_backend;
    Storage* m_storage;
    StorageQueue* m_open_storage = nullptr;
    mem::DmaHeap m_heap;
    rt::FramePool m_pool;
    // Plus the done list's sentinel, m_ops[kMaxOps]: its next is the oldest
    // Done operation, its done_prev the newest (itself: none). No token
    // names it (a token's index is masked to the table).
    Op m_ops[kMaxOps + 1];
    Slot m_queues[kMaxQueues];
    // The one storage queue (the device is exclusive), in place: no heap.
    alignas(StorageQueue) unsigned char m_storage_queue[sizeof(StorageQueue)];
    rt::Executor m_exec;
};

// Inline: every push checks its sga, every wait hands out a result.

[[gnu::always_inline]] inline Result<LibOs::Slice> LibOs::pushable(const demi_sgarray_t* sga) {
    if (sga == nullptr) return Error::InvalidArgument;
    const SgaView v = view_sga(sga);
    if (v.numsegs != 1) return Error::InvalidArgument;
    // The segment may start anywhere in its buffer (a popped payload, or
    // past sgaalloc's headroom); all of it must lie inside.
    const auto* start = static_cast<const uint8_t*>(v.buf);
    mem::Buffer* b = TRY(m_heap.app_buffer(start));
    const auto off = static_cast<uint32_t>(start - b->data());
    const uint32_t len = v.len;
    if (len == 0 || len > b->capacity - off) return Error::InvalidArgument;
    return Slice{b, off, len};
}

// Inline (demi_wait, demi_sgafree): a wait on an operation that completed
// inline (a UDP push) and the free of an sga are a few loads and stores.
inline int LibOs::wait(demi_qresult_t* out, demi_qtoken_t qt, const timespec* timeout) {
    if (out == nullptr || bad_timeout(timeout)) return EINVAL;
    uint32_t i = 0;
    if (const int e = decode(qt, &i); e != 0) return e;
    const Op& op = m_ops[i];
    if (op.state == OpState::Done && !op.waiting) [[likely]] {  // no clock, no executor
        consume(i, out);
        return 0;
    }
    return wait_blocking(out, i, timeout);
}

// The usual demi_sgafree (a 4-aligned one-segment sga whose buffer someone
// else still holds) as a leaf with no frame: true if done; false, with
// nothing changed, sends the caller to sgafree(), which decides.
[[gnu::always_inline]] inline bool LibOs::sgafree_shared(const demi_sgarray_t* sga) {
    if (sga == nullptr || (reinterpret_cast<uintptr_t>(sga) & 3) != 0) return false;
    const SgaView v = view_sga(sga);
    return v.numsegs == 1 && m_heap.app_free_shared(v.buf);
}

inline Result<void> LibOs::sgafree(demi_sgarray_t* sga) {
    if (sga == nullptr) return Error::InvalidArgument;
    const SgaView v = view_sga(sga);
    if (v.numsegs != 1) return Error::InvalidArgument;
    return m_heap.app_free(v.buf);
}

// The list is a ring through the sentinel: both neighbours always exist.
// The op's own links are left as they are: consume() sets next (the free
// list), and whatever lists the op next sets both.
inline void LibOs::unlink_done(uint32_t i) {
    const Op& op = m_ops[i];
    const uint32_t next = op.next, prev = op.done_prev;
    m_ops[prev].next = next;
    m_ops[next].done_prev = prev;
}

inline void LibOs::consume(uint32_t i, demi_qresult_t* out) {
    if ((reinterpret_cast<uintptr_t>(out) & 7) != 0) [[unlikely]] {
        consume_misaligned(i, out);
        return;
    }
    Op& op = m_ops[i];
    unlink_done(i);
    copy_words<sizeof(demi_qresult_t)>(out, &op.result);
    op.result.qr_qt = free_mark(i);  // the token is now stale
    op.state = OpState::Free;
    op.waiting = false;
    op.has_task = false;
    ++op.gen;  // the next token differs
    op.next = m_free_op;
    m_free_op = static_cast<uint16_t>(i);
}

}  // namespace ringlet::pdpix

// The inline starts of push and pop and the op-table steps they share:
// every user of LibOs (the demi_* wrappers, tests) sees their definitions.
#include "libos/pdpix/libos_start.h"
