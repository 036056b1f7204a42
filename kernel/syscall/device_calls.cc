// irq_control: a device cap's interrupt line. (Device caps themselves are
// created at boot and handed out by the boot line: kernel/cap/boot_caps.h.)
#include "kernel/arch.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/smp/hart_local.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

Result<uint64_t> irq_control(Dispatcher& d, const IrqControlRequest& req) {
    HartLocal& local = *arch::hart_local();
    if (req.op == IrqOp::Bind) TRY(bind_irq(local, d, req.device.node->irq, req.bit));
    else TRY(ack_irq(local, d, req.device.node->irq));
    return 0;
}

}  // namespace

Result<uint64_t> invoke_device_call(CapGuard&, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysIrqControl: return irq_control(d, req.irq);
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
