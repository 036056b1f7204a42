// Device interrupts become notifications: an app that holds a device cap
// binds the device's line to one of its notification bits; the line is then
// enabled only on that app's hart, so the interrupt is taken there, the bit
// is set on the app, and the line stays masked (claimed, not completed)
// until the app acks it — it cannot storm the hart while the app is busy.
#pragma once

#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "kernel/obj/dispatcher.h"
#include "ringlet/result.h"

namespace ringlet {

struct HartLocal;

// Maps and sets up the PLIC (boot hart, before the others start).
void init_interrupts(const BootInfo& info, uint64_t plic_va);
// This hart's part: its S-mode context and SEIE.
void init_hart_interrupts(HartLocal& local);

// Routes `irq` to notification bit `bit` (0..63) of `d` on `local`'s hart.
Result<void> bind_irq(HartLocal& local, Dispatcher& d, uint32_t irq, uint32_t bit);
// The app is done with the last interrupt of `irq`: let the next one in.
Result<void> ack_irq(HartLocal& local, Dispatcher& d, uint32_t irq);
// Forgets every binding of `d` (it is ending) and masks those lines.
void unbind_irqs(HartLocal& local, Dispatcher& d);

// The external-interrupt handler: claim, notify, leave masked.
void handle_external_interrupt(HartLocal& local);

}  // namespace ringlet
