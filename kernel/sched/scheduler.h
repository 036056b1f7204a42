// Per-hart round-robin scheduling of dispatchers. Each hart has its own
// Scheduler inside its HartLocal and is the only one to touch it; another
// hart hands over a dispatcher by message, never by reaching in.
//
// Fairness comes from a timer slice, armed only while another dispatcher
// waits for the hart: an app alone on its hart runs undisturbed.
#pragma once

#include <stdint.h>

#include "kernel/obj/dispatcher.h"

namespace ringlet {

class Scheduler {
public:
    static constexpr uint64_t kSliceDivisor = 100;  // slice = timebase / 100 = 10 ms

    // Queues `d` (Runnable) behind the others.
    void enqueue(Dispatcher* d);
    // Takes the next runnable dispatcher, or nullptr.
    Dispatcher* pick();
    // Takes `d` off the run queue (it is ending).
    void remove_runnable(Dispatcher* d);
    bool has_waiting() const { return m_head != nullptr; }
    bool has_blocked() const { return m_blocked != nullptr; }

    // Blocked dispatchers of this hart, for deadline and notification wakeups.
    void add_blocked(Dispatcher* d);
    void remove_blocked(Dispatcher* d);
    // Moves every blocked dispatcher whose deadline passed or whose awaited
    // notification arrived to the run queue. Returns the earliest remaining
    // deadline (0 if none).
    uint64_t wake_due(uint64_t now);

    // The dispatcher this hart runs (nullptr while idle).
    Dispatcher* current() const { return m_current; }
    void set_current(Dispatcher* d) { m_current = d; }
    // When the running dispatcher's slice ends (0 = no slice: it runs alone).
    uint64_t slice_end() const { return m_slice_end; }
    void set_slice_end(uint64_t t) { m_slice_end = t; }

private:
    Dispatcher* m_current = nullptr;
    uint64_t m_slice_end = 0;
    Dispatcher* m_head = nullptr;
    Dispatcher* m_tail = nullptr;
    Dispatcher* m_blocked = nullptr;  // singly linked through next
};

}  // namespace ringlet
