// The inline starts of a push and a pop (demi_push, demi_pushto, demi_pop)
// and the op-table steps they share with the rest of LibOs. Inline into the
// demi_* wrappers: an operation that completes at its start (a UDP push)
// or parks on its queue (a pop with nothing queued) is a few loads and
// stores, with no frame of its own and its Result in registers. Included
// at the end of libos.h (after the class).
#pragma once

#include <string.h>

#include "libos/pdpix/errno_map.h"
#include "libos/pdpix/libos.h"

namespace ringlet::pdpix {

[[gnu::always_inline]] inline Result<Queue*> LibOs::lookup(int qd) {
    if (qd < 0) return Error::BadCapability;
    const uint32_t core = static_cast<uint32_t>(qd) / kMaxQueues, i = static_cast<uint32_t>(qd) % kMaxQueues;
    if (core != m_core) return core < kMaxCores ? Error::WrongCore : Error::BadCapability;
    if (m_queues[i].queue == nullptr) return Error::BadCapability;
    return m_queues[i].queue;
}

inline demi_qtoken_t LibOs::token(uint32_t op) const {
    return (kTokenTag << 56) | (static_cast<uint64_t>(m_ops[op].gen & 0xffffff) << 32) | op;
}

// Precondition: an op is free (m_free_op < kMaxOps). A free op's flags are
// already clear (consume() left them so) and it is parked nowhere.
[[gnu::always_inline]] inline uint32_t LibOs::take_op(int qd, demi_opcode_t opc) {
    // O(1): the free operations form a list through next.
    const uint32_t i = m_free_op;
    Op& op = m_ops[i];
    m_free_op = op.next;
    op.state = OpState::Pending;
    // Every field set once, no memset: the value is the sga (push/pop),
    // the accepted queue, or all zeros (the paths that give none clear it
    // in finish()).
    op.result.qr_opcode = opc;
    op.result.qr_ret = 0;
    op.result.qr_qd = qd;
    op.result.qr_qt = token(i);
    return i;
}

[[gnu::always_inline]] inline Result<uint32_t> LibOs::new_op(int qd, demi_opcode_t opc) {
    if (m_free_op >= kMaxOps) return Error::Full;
    return take_op(qd, opc);
}

[[gnu::always_inline]] inline void LibOs::finish(uint32_t i, demi_opcode_t opc, Error e) {
    Op& op = m_ops[i];
    op.state = OpState::Done;
    ++m_done_seq;
    // Appended before the sentinel: the list stays in completion order.
    Op& end = m_ops[kMaxOps];
    const uint32_t tail = end.done_prev;
    op.done_prev = tail;
    op.next = kMaxOps;
    m_ops[tail].next = i;
    end.done_prev = i;
    if (e != Error::Ok) {
        op.result.qr_opcode = DEMI_OPC_FAILED;
        op.result.qr_ret = to_errno(e);
        // A failed push keeps its sga (the app's, to retry or free).
        if (opc != DEMI_OPC_PUSH) memset(&op.result.qr_value, 0, sizeof op.result.qr_value);
    } else {
        op.result.qr_opcode = opc;
        if (opc == DEMI_OPC_CONNECT) memset(&op.result.qr_value, 0, sizeof op.result.qr_value);
    }
}

[[gnu::always_inline]] inline Result<demi_qtoken_t> LibOs::start_push(int qd, const demi_sgarray_t* sga, const sockaddr* to, socklen_t size) {
    Queue* q = TRY(lookup(qd));
    const Slice s = TRY(pushable(sga));
    // The destination is read where it lies when it is 4-aligned (as a
    // sockaddr_in on the app's stack is): no copy on the inline path.
    const sockaddr_in* dest = nullptr;
    if (to != nullptr) {
        if ((reinterpret_cast<uintptr_t>(to) & 3) != 0 || size < static_cast<socklen_t>(sizeof(sockaddr_in)))
            [[unlikely]] {
            return push_copied_to(qd, q, s, sga, to, size);
        }
        dest = reinterpret_cast<const sockaddr_in*>(to);
        if (dest->sin_family != AF_INET) return Error::Unsupported;
    }
    return push_slice(qd, q, s, sga, dest);
}

[[gnu::always_inline]] inline Result<demi_qtoken_t> LibOs::push_slice(int qd, Queue* q, const Slice& s,
                                                                      const demi_sgarray_t* sga,
                                                                      const sockaddr_in* dest) {
    if (m_free_op >= kMaxOps) return Error::Full;
    // Nothing ahead in the queue's line: the backend may send it right now,
    // and the operation is born complete - no task, no pending state. The
    // op is taken after the send (nothing the send does frees or takes
    // one), so the op's stores follow the call, not straddle it.
    if (q->push_line_empty()) {
        auto r = q->try_push(s.buf, s.off, s.len, dest);
        if (r.ok() || r.error() != Error::WouldBlock) {
            // The sga is copied last: stores through the app's pointer
            // could alias the op, and would keep take_op's stores that
            // finish() overwrites (state, opcode) from being merged.
            const uint32_t i = take_op(qd, DEMI_OPC_PUSH);
            finish(i, DEMI_OPC_PUSH, r.error());
            const demi_qtoken_t qt = m_ops[i].result.qr_qt;
            copy_packed(&m_ops[i].result.qr_value.sga, sga);
            return qt;
        }
    }
    const uint32_t i = take_op(qd, DEMI_OPC_PUSH);
    copy_packed(&m_ops[i].result.qr_value.sga, sga);
    return launch_push(i, q, s, dest);
}

[[gnu::always_inline]] inline Result<demi_qtoken_t> LibOs::start_pop(int qd) {
    Queue* q = TRY(lookup(qd));
    if (m_free_op >= kMaxOps) return Error::Full;
    const uint32_t i = take_op(qd, DEMI_OPC_POP);
    // Data already there completes the pop at once; else the queue keeps it
    // parked and completes it from its receive path. A task only for
    // backends that can do neither.
    sockaddr_in from{};
    auto r = q->try_pop(&from);
    if (r.ok() || r.error() != Error::WouldBlock) {
        finish_pop_now(i, r, from);
        return m_ops[i].result.qr_qt;
    }
    if (q->park_pop(&m_ops[i].waiter)) {
        m_ops[i].parked = q;
        return m_ops[i].result.qr_qt;
    }
    return launch_pop(i, q);
}

}  // namespace ringlet::pdpix
