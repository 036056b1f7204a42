// A test-and-test-and-set spin lock for the few structures every hart may
// touch (the console, the frame pool until it is split per hart). Never on a
// fast path. Kernel code runs with interrupts off, so holding it cannot
// deadlock against a trap handler on the same hart.
#pragma once

#include <stdint.h>

namespace ringlet {

class SpinLock {
public:
    void lock() {
        for (;;) {
            if (!__atomic_exchange_n(&m_locked, 1u, __ATOMIC_ACQUIRE)) return;
            while (__atomic_load_n(&m_locked, __ATOMIC_RELAXED)) {
            }
        }
    }
    bool try_lock() { return !__atomic_exchange_n(&m_locked, 1u, __ATOMIC_ACQUIRE); }
    void unlock() { __atomic_store_n(&m_locked, 0u, __ATOMIC_RELEASE); }
    bool is_locked() const { return __atomic_load_n(&m_locked, __ATOMIC_RELAXED) != 0; }

private:
    uint32_t m_locked = 0;
};

class SpinGuard {
public:
    explicit SpinGuard(SpinLock& lock) : m_lock(lock) { m_lock.lock(); }
    ~SpinGuard() { m_lock.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

private:
    SpinLock& m_lock;
};

}  // namespace ringlet
