#include "libos/backend/device_grants.h"

#include "ringlet/cap_types.h"
#include "ringlet/syscall_abi.h"
#include "user/rt/syscall.h"

namespace ringlet::backend {
namespace {

constexpr uint64_t kMapRw = 3;  // MapPerm read | write
constexpr uint32_t kVirtioDeviceIdOffset = 0x008;

}  // namespace

Result<ClaimedDevice> claim_virtio_device(uint32_t device_id, uint64_t va) {
    const StartCap* caps = user::start_caps();
    for (size_t i = 0; i < user::start_cap_count(); ++i) {
        if (caps[i].type != kCapDevice) continue;
        const CapIndex cap = caps[i].index;
        if (!user::as_result(user::syscall(kSysFrameMap, cap, va, kMapRw))) continue;  // mapped already: in use
        const uint32_t id = *reinterpret_cast<volatile uint32_t*>(va + kVirtioDeviceIdOffset);
        if (id != device_id) {
            // Unmapping leaves the cap for the device's own driver (maybe in
            // this app) to map later.
            (void)user::syscall(kSysFrameUnmap, cap, va);
            continue;
        }
        return ClaimedDevice{cap, caps[i].tag};
    }
    return Error::NotFound;
}

Result<uint64_t> map_contiguous(uint64_t pages, uint64_t va) {
    const uint64_t cap = TRY(user::as_result(user::frame_alloc(pages, kFrameContiguous)));
    TRY(user::as_result(user::syscall(kSysFrameMap, cap, va, kMapRw)));
    return user::as_result(user::syscall(kSysFramePhys, cap));
}

}  // namespace ringlet::backend
