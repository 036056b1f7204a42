#include "kernel/smp/mailbox.h"

#include <new>

#include "kernel/arch.h"
#include "kernel/mm/frames.h"
#include "kernel/panic.h"
#include "kernel/sched/dispatch.h"
#include "kernel/smp/hart_local.h"
#include "ringlet/spsc_ring.h"

namespace ringlet {

HartLocal& hart_by_index(size_t index);
size_t hart_count();

namespace {

constexpr uint32_t kSlots = 16;
using Ring = SpscRing<kSlots>;
constexpr size_t kMaxHarts = 8;  // harts the kernel runs on at most (rings grow as n²)

// rings[from][to]. g_producers[from][to] is used only by hart `from`,
// g_consumers[to][from] only by hart `to`. All are set up by the boot hart
// before any other hart starts.
Ring* g_rings[kMaxHarts][kMaxHarts];
alignas(SpscProducer<kSlots>) unsigned char g_producer_mem[kMaxHarts][kMaxHarts][sizeof(SpscProducer<kSlots>)];
alignas(SpscConsumer<kSlots>) unsigned char g_consumer_mem[kMaxHarts][kMaxHarts][sizeof(SpscConsumer<kSlots>)];
size_t g_count;

// Per-hart counters, each written only by its own hart.
struct alignas(64) HartCounters {
    uint64_t handled = 0;
    uint64_t flush_seq = 0;
    uint64_t flush_acks = 0;
    uint64_t flush_sent = 0;
    uint32_t locked_depth = 0;  // enter_locked_section nesting
    // Messages kept back while locked_depth > 0 (at most one start and one
    // end per dispatcher can be in flight).
    static constexpr size_t kMaxDeferred = 128;
    struct Kept {
        uint64_t type, arg0, arg1;
    };
    Kept deferred[kMaxDeferred];
    size_t deferred_count = 0;
};
HartCounters g_counters[kMaxHarts];

SpscProducer<kSlots>& producer(size_t from, size_t to) {
    return *std::launder(reinterpret_cast<SpscProducer<kSlots>*>(g_producer_mem[from][to]));
}
SpscConsumer<kSlots>& consumer(size_t to, size_t from) {
    return *std::launder(reinterpret_cast<SpscConsumer<kSlots>*>(g_consumer_mem[to][from]));
}

// Start and End take the capability locks (a dispatcher that ends releases
// its capabilities): not inside a locked section.
bool needs_unlocked(const RingMessage& m) {
    const auto type = static_cast<HartMessageType>(m.words[0]);
    return type == HartMessageType::StartDispatcher || type == HartMessageType::EndDispatcher;
}

void handle(size_t me, size_t from, const RingMessage& m) {
    HartCounters& c = g_counters[me];
    if (c.locked_depth > 0 && needs_unlocked(m)) {
        if (c.deferred_count == HartCounters::kMaxDeferred) panic("handle: too many deferred messages");
        c.deferred[c.deferred_count++] = HartCounters::Kept{m.words[0], m.words[1], m.words[2]};
        return;
    }
    ++c.handled;
    switch (static_cast<HartMessageType>(m.words[0])) {
    case HartMessageType::StartDispatcher:
        place_dispatcher(hart_by_index(me), reinterpret_cast<Dispatcher*>(m.words[1]));
        break;
    case HartMessageType::FlushTlb:
        arch::flush_tlb();
        if (auto r = send_to_hart(from, HartMessageType::FlushDone, m.words[1]); !r)
            panic("handle: cannot answer a TLB flush: %s", error_name(r.error()));
        break;
    case HartMessageType::FlushDone:
        if (m.words[1] == g_counters[me].flush_seq) ++g_counters[me].flush_acks;
        break;
    case HartMessageType::Notify:
        notify_dispatcher(reinterpret_cast<Dispatcher*>(m.words[1]), static_cast<uint32_t>(m.words[2] >> 8),
                          static_cast<uint32_t>(m.words[2] & 0xff));
        break;
    case HartMessageType::EndDispatcher:
        kill_dispatcher(reinterpret_cast<Dispatcher*>(m.words[1]), static_cast<uint32_t>(m.words[2]));
        break;
    case HartMessageType::Halt:
        for (;;) arch::idle_wait();
    default: panic("handle: unknown inter-hart message %lu from hart index %zu", m.words[0], from);
    }
}

}  // namespace

Result<void> init_mailboxes(size_t count) {
    if (count > kMaxHarts) return Error::Unsupported;
    g_count = count;
    for (size_t from = 0; from < count; ++from) {
        for (size_t to = 0; to < count; ++to) {
            if (from == to) continue;
            uint64_t pa = TRY(frames().alloc((sizeof(Ring) + 4095) / 4096));
            auto* ring = new (reinterpret_cast<void*>(arch::phys_to_virt(pa))) Ring();
            g_rings[from][to] = ring;
            new (g_producer_mem[from][to]) SpscProducer<kSlots>(*ring);
            new (g_consumer_mem[to][from]) SpscConsumer<kSlots>(*ring);
        }
    }
    return {};
}

Result<void> send_to_hart(size_t to, HartMessageType type, uint64_t arg0, uint64_t arg1) {
    size_t me = current_hart_index();
    if (to >= g_count || to == me) return Error::InvalidArgument;
    RingMessage m{};
    m.words[0] = static_cast<uint64_t>(type);
    m.words[1] = arg0;
    m.words[2] = arg1;
    for (;;) {
        auto r = producer(me, to).try_push(m);
        if (r) break;
        if (r.error() != Error::Full) return r.error();
        drain_mailbox();  // the receiver may be waiting on us
    }
    return arch::send_ipi(hart_by_index(to).hart_id);
}

// Handles the messages kept back by a locked section (in arrival order).
// A handler may itself lock and keep messages back: they join the queue.
void run_deferred(size_t me) {
    HartCounters& c = g_counters[me];
    while (c.deferred_count > 0 && c.locked_depth == 0) {
        RingMessage m{};
        m.words[0] = c.deferred[0].type;
        m.words[1] = c.deferred[0].arg0;
        m.words[2] = c.deferred[0].arg1;
        for (size_t j = 1; j < c.deferred_count; ++j) c.deferred[j - 1] = c.deferred[j];
        --c.deferred_count;
        handle(me, 0, m);
    }
}

void drain_mailbox() {
    size_t me = current_hart_index();
    if (g_counters[me].locked_depth == 0 && g_counters[me].deferred_count) run_deferred(me);
    for (size_t from = 0; from < g_count; ++from) {
        if (from == me) continue;
        for (;;) {
            auto m = consumer(me, from).try_pop();
            if (!m) {
                if (m.error() != Error::Empty) panic("drain_mailbox: ring from %zu: %s", from, error_name(m.error()));
                break;
            }
            handle(me, from, *m);
        }
    }
}

Result<void> shootdown_tlbs(uint64_t harts) {
    size_t me = current_hart_index();
    HartCounters& c = g_counters[me];
    ++c.flush_seq;
    c.flush_acks = 0;
    arch::flush_tlb();
    const uint64_t targets = remote_shootdown_targets(harts, me, g_count);
    uint64_t sent = 0;
    for (size_t to = 0; to < g_count; ++to) {
        if (!(targets >> to & 1)) continue;
        TRY(send_to_hart(to, HartMessageType::FlushTlb, c.flush_seq));
        ++sent;
    }
    __atomic_store_n(&c.flush_sent, c.flush_sent + sent, __ATOMIC_RELAXED);
    while (c.flush_acks < sent) drain_mailbox();
    return {};
}

uint64_t remote_shootdowns_sent() { return g_counters[current_hart_index()].flush_sent; }
uint64_t remote_shootdowns_sent_all() {
    uint64_t total = 0;
    for (size_t i = 0; i < g_count; ++i) total += __atomic_load_n(&g_counters[i].flush_sent, __ATOMIC_RELAXED);
    return total;
}

void enter_locked_section() { ++g_counters[current_hart_index()].locked_depth; }
void leave_locked_section() {
    size_t me = current_hart_index();
    if (--g_counters[me].locked_depth == 0 && g_counters[me].deferred_count) run_deferred(me);
}
bool in_locked_section() { return g_counters[current_hart_index()].locked_depth > 0; }

uint64_t messages_handled() { return g_counters[current_hart_index()].handled; }

}  // namespace ringlet
