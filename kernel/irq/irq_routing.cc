#include "kernel/irq/irq_routing.h"

#include "arch/riscv64/layout.h"
#include "kernel/console/console.h"
#include "kernel/irq/plic.h"
#include "kernel/smp/hart_local.h"

namespace ringlet {
namespace {

constexpr uint32_t kMaxIrq = 1024;

// Set once at boot; afterwards the PLIC's per-context registers are written
// only by the hart owning the context, and each source's priority/enable only
// by the hart its binding lives on.
Plic g_plic;

struct Binding {
    Dispatcher* dispatcher;  // nullptr: unbound
    uint32_t hart_index;
    uint32_t bit;
    bool in_service;         // claimed, waiting for the app's ack
};
// Entry `irq` is written only by the hart `hart_index` names (binding happens
// on the app's own hart); claiming a free entry is an atomic exchange.
Binding g_bindings[kMaxIrq];

int32_t context_of(const HartLocal& local) { return local.plic_context; }

}  // namespace

void init_interrupts(const BootInfo& info, uint64_t plic_va) {
    if (info.plic.present) g_plic.init(plic_va, info.plic.ndev);
}

void init_hart_interrupts(HartLocal& local) { g_plic.init_context(context_of(local)); }

Result<void> bind_irq(HartLocal& local, Dispatcher& d, uint32_t irq, uint32_t bit) {
    if (irq == 0 || irq >= kMaxIrq || bit >= 64) return Error::InvalidArgument;
    if (!g_plic.present() || context_of(local) < 0) return Error::Unsupported;
    Dispatcher* expected = nullptr;
    if (!__atomic_compare_exchange_n(&g_bindings[irq].dispatcher, &expected, &d, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return expected == &d ? Error::Exists : Error::Busy;
    if (d.irq_line_count == Dispatcher::kMaxIrqLines) {
        __atomic_store_n(&g_bindings[irq].dispatcher, nullptr, __ATOMIC_RELEASE);
        return Error::Full;
    }
    d.irq_lines[d.irq_line_count++] = static_cast<uint16_t>(irq);
    g_bindings[irq].hart_index = local.index;
    g_bindings[irq].bit = bit;
    g_bindings[irq].in_service = false;
    return g_plic.enable(irq, context_of(local), true);
}

Result<void> ack_irq(HartLocal& local, Dispatcher& d, uint32_t irq) {
    if (irq == 0 || irq >= kMaxIrq) return Error::InvalidArgument;
    Binding& b = g_bindings[irq];
    if (b.dispatcher != &d) return Error::NotFound;
    if (!b.in_service) return {};  // nothing outstanding: acking is harmless
    b.in_service = false;
    g_plic.complete(irq, context_of(local));
    return {};
}

void complete_delivered_irqs(HartLocal& local, Dispatcher& d, uint64_t mask) {
    const uint64_t delivered = irq_bits_to_complete(d.irq_in_service, mask, d.notifications);
    if (!delivered) return;
    for (uint8_t i = 0; i < d.irq_line_count; ++i) {
        Binding& b = g_bindings[d.irq_lines[i]];
        if (!b.in_service || !(delivered & (1ull << b.bit))) continue;
        b.in_service = false;
        g_plic.complete(d.irq_lines[i], context_of(local));
    }
    d.irq_in_service &= ~delivered;
}

void release_irq_line(HartLocal& local, uint32_t irq) {
    if (irq == 0 || irq >= kMaxIrq) return;
    Binding& b = g_bindings[irq];
    Dispatcher* d = b.dispatcher;
    if (!d || b.hart_index != local.index) return;
    (void)g_plic.enable(irq, context_of(local), false);
    if (b.in_service) g_plic.complete(irq, context_of(local));
    d->irq_in_service &= ~(1ull << b.bit);
    for (uint8_t i = 0; i < d->irq_line_count; ++i) {
        if (d->irq_lines[i] != irq) continue;
        d->irq_lines[i] = d->irq_lines[--d->irq_line_count];
        break;
    }
    b.in_service = false;
    __atomic_store_n(&b.dispatcher, nullptr, __ATOMIC_RELEASE);
}

void unbind_irqs(HartLocal& local, Dispatcher& d) {
    for (uint32_t irq = 1; irq < kMaxIrq; ++irq) {
        Binding& b = g_bindings[irq];
        if (b.dispatcher != &d) continue;
        (void)g_plic.enable(irq, context_of(local), false);
        if (b.in_service) g_plic.complete(irq, context_of(local));
        b.in_service = false;
        __atomic_store_n(&b.dispatcher, nullptr, __ATOMIC_RELEASE);
    }
    d.irq_line_count = 0;
    d.irq_in_service = 0;
}

void handle_external_interrupt(HartLocal& local) {
    for (;;) {
        uint32_t irq = g_plic.claim(context_of(local));
        if (irq == 0) return;
        Binding* b = irq < kMaxIrq ? &g_bindings[irq] : nullptr;
        if (!b || !b->dispatcher || b->hart_index != local.index) {
            // Nobody wants it here: complete and mask it so it cannot storm.
            g_plic.complete(irq, context_of(local));
            (void)g_plic.enable(irq, context_of(local), false);
            continue;
        }
        b->in_service = true;
        b->dispatcher->irq_in_service |= 1ull << b->bit;
        b->dispatcher->notifications |= 1ull << b->bit;  // picked up by wake_due
    }
}

}  // namespace ringlet
