// Notifier: tasks wait here until the next notify_all() (a broadcast edge).
//
// Backends keep one per readiness condition (socket readable, writable, a
// loopback queue non-empty). notify_all() only marks the waiters ready; they
// run later and re-check their condition. Waiters are intrusive list nodes in
// the awaiters, so a cancelled task unlinks itself on destruction.
#pragma once

#include <coroutine>

#include "libos/rt/executor.h"

namespace ringlet::rt {

class Notifier {
public:
    Notifier() = default;
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;
    ~Notifier() { notify_all(); }

    class Awaiter {
    public:
        explicit Awaiter(Notifier* n) : m_owner(n) {}
        Awaiter(const Awaiter&) = delete;
        ~Awaiter() { unlink(); }
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            m_waker = Executor::current()->park(h);
            m_next = m_owner->m_head;
            if (m_next != nullptr) m_next->m_prev = this;
            m_owner->m_head = this;
            m_linked = true;
        }
        void await_resume() const noexcept {}

    private:
        friend class Notifier;
        void unlink() {
            if (!m_linked) return;
            if (m_prev != nullptr) {
                m_prev->m_next = m_next;
            } else {
                m_owner->m_head = m_next;
            }
            if (m_next != nullptr) m_next->m_prev = m_prev;
            m_prev = m_next = nullptr;
            m_linked = false;
        }
        Notifier* m_owner;
        Awaiter* m_prev = nullptr;
        Awaiter* m_next = nullptr;
        Waker m_waker;
        bool m_linked = false;
    };

    // Suspends the calling task until the next notify_all().
    Awaiter wait() { return Awaiter(this); }

    // Makes every current waiter ready (none runs inline) and forgets them.
    void notify_all() {
        while (m_head != nullptr) {
            Awaiter* a = m_head;
            a->unlink();
            a->m_waker.wake();
        }
    }

    bool has_waiters() const { return m_head != nullptr; }

private:
    Awaiter* m_head = nullptr;
};

}  // namespace ringlet::rt
