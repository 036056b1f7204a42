// TimerHeap: a fixed-capacity binary min-heap of intrusive timer nodes.
//
// A Timer lives inside the awaiter that sleeps on it, so a cancelled task
// removes its timer in the awaiter's destructor (O(log n) via the stored heap
// index). No heap allocation: the node array is a member.
#pragma once

#include <stdint.h>

namespace ringlet::rt {

struct Timer {
    static constexpr uint32_t kNotQueued = ~uint32_t{0};
    uint64_t deadline_ns = 0;
    uint32_t index = kNotQueued;  // position in the heap, kNotQueued if not queued
    void (*fire)(Timer*) = nullptr;  // called by the executor when due
    bool queued() const { return index != kNotQueued; }
};

template <uint32_t Capacity>
class TimerHeap {
public:
    // Queues t. False if the heap is full or t is already queued.
    bool insert(Timer* t) {
        if (m_size == Capacity || t->queued()) return false;
        m_nodes[m_size] = t;
        t->index = m_size++;
        sift_up(t->index);
        m_earliest = m_nodes[0]->deadline_ns;
        return true;
    }

    // Unqueues t if queued; harmless otherwise.
    void remove(Timer* t) {
        if (!t->queued()) return;
        const uint32_t i = t->index;
        t->index = Timer::kNotQueued;
        --m_size;
        if (i != m_size) {
            m_nodes[i] = m_nodes[m_size];
            m_nodes[i]->index = i;
            sift_down(i);
            sift_up(i);
        }
        m_earliest = m_size == 0 ? ~uint64_t{0} : m_nodes[0]->deadline_ns;
    }

    // Earliest deadline, or ~0 when empty.
    uint64_t earliest() const { return m_size == 0 ? ~uint64_t{0} : m_nodes[0]->deadline_ns; }

    // Removes and returns the earliest timer if it is due at `now`, else nullptr.
    Timer* pop_due(uint64_t now) {
        if (m_size == 0 || m_nodes[0]->deadline_ns > now) return nullptr;
        Timer* t = m_nodes[0];
        remove(t);
        return t;
    }

    uint32_t size() const { return m_size; }

private:
    void swap(uint32_t a, uint32_t b) {
        Timer* t = m_nodes[a];
        m_nodes[a] = m_nodes[b];
        m_nodes[b] = t;
        m_nodes[a]->index = a;
        m_nodes[b]->index = b;
    }
    void sift_up(uint32_t i) {
        while (i > 0) {
            const uint32_t p = (i - 1) / 2;
            if (m_nodes[p]->deadline_ns <= m_nodes[i]->deadline_ns) break;
            swap(p, i);
            i = p;
        }
    }
    void sift_down(uint32_t i) {
        for (;;) {
            const uint32_t l = 2 * i + 1, r = l + 1;
            uint32_t m = i;
            if (l < m_size && m_nodes[l]->deadline_ns < m_nodes[m]->deadline_ns) m = l;
            if (r < m_size && m_nodes[r]->deadline_ns < m_nodes[m]->deadline_ns) m = r;
            if (m == i) return;
            swap(m, i);
            i = m;
        }
    }

    // First: at the start of the heap, next to what its owner reads often.
    uint64_t m_earliest = ~uint64_t{0};
    uint32_t m_size = 0;
    Timer* m_nodes[Capacity] = {};
};

}  // namespace ringlet::rt
