// device_claim, irq_control: a device's registers and its interrupt line.
#include "kernel/arch.h"
#include "kernel/irq/irq_routing.h"
#include "kernel/smp/hart_local.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

Result<uint64_t> device_claim(CapsGuard& guard, Dispatcher& d, const DeviceClaimRequest& req) {
    ClaimableDevice& dev = guard.device(req.index);
    if (dev.claimed) return Error::Busy;
    uint32_t rights = kRightRead | kRightWrite | kRightMap | kRightGrant;
    CapIndex cap = TRY(guard.caps().insert_root(table_of(d), kCapDevice, rights, dev.base, dev.size, dev.irq));
    dev.claimed = true;
    return cap;
}

Result<uint64_t> irq_control(Dispatcher& d, const IrqControlRequest& req) {
    HartLocal& local = *arch::hart_local();
    if (req.op == IrqOp::Bind) TRY(bind_irq(local, d, req.device.node->irq, req.bit));
    else TRY(ack_irq(local, d, req.device.node->irq));
    return 0;
}

}  // namespace

Result<uint64_t> invoke_device_call(CapsGuard& guard, Dispatcher& d, const SyscallRequest& req) {
    switch (req.number) {
    case kSysDeviceClaim: return device_claim(guard, d, req.device_claim);
    case kSysIrqControl: return irq_control(d, req.irq);
    default: return Error::Unsupported;
    }
}

}  // namespace ringlet
