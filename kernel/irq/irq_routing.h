// Device interrupts become notifications: an app that holds a device cap
// binds the device's line to one of its notification bits; the line is then
// enabled only on that app's hart, so the interrupt is taken there, the bit
// is set on the app, and the line stays masked (claimed, not completed)
// until the app is done with it — it cannot storm the hart while the app is
// busy.
//
// When is the app done? The PLIC's gateway treats the virtio-mmio line as
// level-triggered: completing while the device still holds its line high
// pends the source again at once. So the line may be completed only after
// the app has acknowledged the device itself (virtio: read InterruptStatus,
// write it to InterruptACK, which lowers the line). The libOS does that
// right after the wait that delivered the bit, and later — when it has
// nothing left to do and has re-armed the device's own interrupt suppression
// (virtio used-ring flags) — waits for that bit again. So the next wait for a
// bit is the app's acknowledgement of the interrupt it received on that bit:
// wait completes every line of the caller whose notification was delivered
// (claimed, bit no longer pending) and whose bit it waits for, before it
// sleeps; one syscall per sleep/wake cycle. Nothing is lost: an interrupt
// raised after the device ack finds the source still claimed and pends at
// the PLIC, which delivers it as soon as wait completes the claim. An app
// that waits without servicing the device gets one interrupt per wait, never
// a storm. irq_control's ack stays, as an explicit early completion.
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
// The notification bits whose interrupt a wait(mask) acknowledges: lines in
// service (claimed, `in_service`) whose bit the wait asks for and whose
// notification was already handed to the app (no longer `pending`). A bit
// still pending has not been seen: the app cannot have serviced its device.
constexpr uint64_t irq_bits_to_complete(uint64_t in_service, uint64_t wait_mask, uint64_t pending) {
    return in_service & wait_mask & ~pending;
}

// Completes the lines of `d` that are in service, bound to a bit in `mask`,
// and whose notification `d` has already been given (the bit is no longer
// pending): wait's implicit acknowledgement (see above). Only on d's hart.
void complete_delivered_irqs(HartLocal& local, Dispatcher& d, uint64_t mask);
// The device behind `irq` has been handed back (its last app-held cap went):
// if the line is bound on this hart, mask it, complete it if in service and
// forget the binding. A binding on another hart stays with its app (masked
// there once the app ends or the next app binds the line after it).
void release_irq_line(HartLocal& local, uint32_t irq);
// Forgets every binding of `d` (it is ending) and masks those lines.
void unbind_irqs(HartLocal& local, Dispatcher& d);

// The external-interrupt handler: claim, notify, leave masked.
void handle_external_interrupt(HartLocal& local);

}  // namespace ringlet
