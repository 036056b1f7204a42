// The inter-hart message figure (issue 7, item 5): two host threads pass
// 64-byte messages through the kernel's SpscRing, the type each ordered pair
// of harts uses in kernel/smp/mailbox.cc (16 slots). icount cannot time this
// in QEMU (it needs -smp 1), so the figure is host nanoseconds.
//
// Both threads spin: the kernel's receiver is woken by an IPI and then
// drains, so the spin stands for "the other hart is already looking"; the IPI
// itself is not measured. On a shared two-core machine a descheduled spinner
// shows up as a long iteration, which is why the mean is reported and the
// threads are pinned to different CPUs when there are two.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <memory>
#include <thread>

#include "ringlet/spsc_ring.h"

namespace ringlet {
namespace {

constexpr uint32_t kSlots = 16;  // as kernel/smp/mailbox.cc
using Ring = SpscRing<kSlots>;

// Pins the calling thread to `cpu` when the machine has it; a failure only
// makes the figure noisier, so it is not an error.
void pin_to(unsigned cpu) {
    if (std::thread::hardware_concurrency() < 2) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void push_spin(SpscProducer<kSlots>& p, const RingMessage& m) {
    while (!p.try_push(m).ok()) {
    }
}

RingMessage pop_spin(SpscConsumer<kSlots>& c) {
    for (;;) {
        auto m = c.try_pop();
        if (m.ok()) return *m;
    }
}

// The peer thread: echoes every message from `in` to `out` until it sees
// word 0 == kStop.
constexpr uint64_t kStop = ~0ull;
void echo_peer(Ring* in, Ring* out) {
    pin_to(1);
    SpscConsumer<kSlots> c(*in);
    SpscProducer<kSlots> p(*out);
    for (;;) {
        const RingMessage m = pop_spin(c);
        if (m.words[0] == kStop) return;
        push_spin(p, m);
    }
}

// The peer thread for streaming: counts messages from `in` until kStop.
void count_peer(Ring* in, uint64_t* received) {
    pin_to(1);
    SpscConsumer<kSlots> c(*in);
    while (pop_spin(c).words[0] != kStop) ++*received;
}

// Pushes a message whose first word is `word`.
void send(SpscProducer<kSlots>& p, uint64_t word) {
    RingMessage m{};
    m.words[0] = word;
    push_spin(p, m);
}

// Sends kStop through `p` and waits for the peer thread to end.
void stop_peer(SpscProducer<kSlots>& p, std::thread& peer) {
    send(p, kStop);
    peer.join();
}

// Round trip: push a message to the peer hart, wait for it to come back.
// The time per iteration is the round trip; one way is half of it (the two
// directions are symmetric).
void BM_RingRoundTrip(benchmark::State& state) {
    pin_to(0);
    auto to_peer = std::make_unique<Ring>();
    auto from_peer = std::make_unique<Ring>();
    std::thread peer(echo_peer, to_peer.get(), from_peer.get());
    SpscProducer<kSlots> p(*to_peer);
    SpscConsumer<kSlots> c(*from_peer);
    uint64_t seq = 0;
    for (auto _ : state) {
        send(p, seq);
        if (pop_spin(c).words[0] != seq++) state.SkipWithError("message came back changed");
    }
    stop_peer(p, peer);
}
BENCHMARK(BM_RingRoundTrip)->UseRealTime()->Unit(benchmark::kNanosecond);

// Streaming: the producer pushes as fast as the ring lets it, the consumer
// pops; the time per iteration is the cost of one message when they are
// pipelined (as a burst of TLB-shootdown or notify messages would be).
void BM_RingStream(benchmark::State& state) {
    pin_to(0);
    auto ring = std::make_unique<Ring>();
    uint64_t received = 0;  // read only after the peer has ended
    std::thread peer(count_peer, ring.get(), &received);
    SpscProducer<kSlots> p(*ring);
    uint64_t seq = 0;
    for (auto _ : state) send(p, seq++);
    stop_peer(p, peer);
    if (received != seq) state.SkipWithError("messages lost");
}
BENCHMARK(BM_RingStream)->UseRealTime()->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace ringlet
