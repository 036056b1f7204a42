#include "libos/backend/device_grants.h"

#include "ringlet/cap_types.h"
#include "ringlet/syscall_abi.h"
#include "user/rt/syscall.h"

namespace ringlet::backend {
namespace {

constexpr uint64_t kMapRw = 3;  // MapPerm read | write
constexpr uint32_t kVirtioDeviceIdOffset = 0x008;
constexpr uint64_t kMaxDevices = 16;

}  // namespace

Result<ClaimedDevice> claim_virtio_device(uint32_t device_id, uint64_t va) {
    for (uint64_t i = 0; i < kMaxDevices; ++i) {
        auto cap = user::as_result(user::syscall(kSysDeviceClaim, i));
        if (!cap) {
            if (cap.error() == Error::NotFound) break;  // past the last slot
            continue;                                   // claimed by someone else
        }
        if (!user::as_result(user::syscall(kSysFrameMap, *cap, va, kMapRw))) {
            (void)user::syscall(kSysCapDelete, *cap);  // best effort: nothing else to undo
            continue;
        }
        const uint32_t id = *reinterpret_cast<volatile uint32_t*>(va + kVirtioDeviceIdOffset);
        if (id != device_id) {
            // Deleting the cap unmaps the page and releases the claim, so the
            // device's own driver (maybe in this app) can take it later.
            (void)user::syscall(kSysCapDelete, *cap);
            continue;
        }
        return ClaimedDevice{*cap, i};
    }
    return Error::NotFound;
}

Result<uint64_t> map_contiguous(uint64_t pages, uint64_t va) {
    const uint64_t cap = TRY(user::as_result(user::syscall(kSysFrameAlloc, pages, kFrameContiguous)));
    TRY(user::as_result(user::syscall(kSysFrameMap, cap, va, kMapRw)));
    return user::as_result(user::syscall(kSysFramePhys, cap));
}

}  // namespace ringlet::backend
