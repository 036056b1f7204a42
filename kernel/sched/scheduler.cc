#include "kernel/sched/scheduler.h"

namespace ringlet {

void Scheduler::enqueue(Dispatcher* d) {
    d->state = DispatcherState::Runnable;
    d->next = nullptr;
    if (m_tail) m_tail->next = d;
    else m_head = d;
    m_tail = d;
}

Dispatcher* Scheduler::pick() {
    Dispatcher* d = m_head;
    if (!d) return nullptr;
    m_head = d->next;
    if (!m_head) m_tail = nullptr;
    d->next = nullptr;
    return d;
}

void Scheduler::remove_runnable(Dispatcher* d) {
    Dispatcher* prev = nullptr;
    for (Dispatcher* p = m_head; p; prev = p, p = p->next) {
        if (p != d) continue;
        if (prev) prev->next = d->next;
        else m_head = d->next;
        if (m_tail == d) m_tail = prev;
        d->next = nullptr;
        return;
    }
}

void Scheduler::add_blocked(Dispatcher* d) {
    d->state = DispatcherState::Blocked;
    d->next = m_blocked;
    m_blocked = d;
}

void Scheduler::remove_blocked(Dispatcher* d) {
    for (Dispatcher** p = &m_blocked; *p; p = &(*p)->next) {
        if (*p == d) {
            *p = d->next;
            d->next = nullptr;
            return;
        }
    }
}

uint64_t Scheduler::wake_due(uint64_t now) {
    uint64_t earliest = 0;
    Dispatcher** p = &m_blocked;
    while (*p) {
        Dispatcher* d = *p;
        bool notified = (d->notifications & d->wait_mask) != 0;
        bool expired = d->wake_deadline != 0 && d->wake_deadline <= now;
        if (notified || expired) {
            d->wake_value = d->notifications & d->wait_mask;  // 0 when the deadline won
            d->notifications &= ~d->wake_value;
            d->has_wake_value = true;
            *p = d->next;
            enqueue(d);
            continue;
        }
        if (d->wake_deadline && (!earliest || d->wake_deadline < earliest)) earliest = d->wake_deadline;
        p = &d->next;
    }
    return earliest;
}

}  // namespace ringlet
