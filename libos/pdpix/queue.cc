#include "libos/pdpix/queue.h"

namespace ringlet::pdpix {

PushTurn::PushTurn(Queue& q) : m_q(&q), m_prev(q.m_push_tail) {
    (m_prev != nullptr ? m_prev->m_next : q.m_push_head) = this;
    q.m_push_tail = this;
}

// Takes `other`'s place in the line (it is being moved into a task frame).
PushTurn::PushTurn(PushTurn&& other) : m_q(other.m_q), m_prev(other.m_prev), m_next(other.m_next) {
    other.m_q = nullptr;
    if (m_q == nullptr) return;
    (m_prev != nullptr ? m_prev->m_next : m_q->m_push_head) = this;
    (m_next != nullptr ? m_next->m_prev : m_q->m_push_tail) = this;
}

PushTurn::~PushTurn() {
    if (m_q == nullptr) return;
    const bool was_first = first();
    (m_prev != nullptr ? m_prev->m_next : m_q->m_push_head) = m_next;
    (m_next != nullptr ? m_next->m_prev : m_q->m_push_tail) = m_prev;
    if (was_first) m_q->m_push_line.notify_all();
}

bool PushTurn::first() const { return m_q != nullptr && m_q->m_push_head == this; }

void Queue::unpark_pop(PopWaiter* w) {
    PopWaiter* prev = nullptr;
    for (PopWaiter* cur = m_pop_head; cur != nullptr; prev = cur, cur = cur->m_next) {
        if (cur != w) continue;
        (prev != nullptr ? prev->m_next : m_pop_head) = cur->m_next;
        if (m_pop_tail == cur) m_pop_tail = prev;
        cur->m_next = nullptr;
        return;
    }
}

// Defaults: the operation does not exist on this kind of queue.
rt::Task<Result<Queue*>> Queue::accept(sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::connect(sockaddr_in) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::push(mem::Buffer*, uint32_t, uint32_t, const sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<mem::Buffer*>> Queue::pop(sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::pushat(mem::Buffer*, uint32_t, uint32_t, uint64_t) { co_return Error::Unsupported; }
rt::Task<Result<mem::Buffer*>> Queue::popat(uint64_t, uint32_t) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::flush() { co_return Error::Unsupported; }

}  // namespace ringlet::pdpix
