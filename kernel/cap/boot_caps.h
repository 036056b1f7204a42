// The root capabilities boot creates, and what init= apps receive.
//
// At boot the kernel makes, in its own table (CapSpace::kKernelTable), one
// Device cap per virtio-mmio slot, one Hart cap per usable hart and one Image
// cap over the initrd. Those roots never leave the kernel: an app started by
// init= receives children of them (and a memory pool of its own), so when the
// app ends its children go and the kernel still holds the device, the hart
// and the image for the next app the boot line (or a holder) names.
//
// Plain logic over a CapSpace: host-tested (tests/kernel/cap/boot_caps_test.cc).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap/cap_space.h"
#include "ringlet/result.h"
#include "ringlet/start_caps.h"

namespace ringlet {

// What init= apps get of each root.
inline constexpr uint32_t kInitDeviceRights = kRightRead | kRightWrite | kRightMap | kRightGrant;
inline constexpr uint32_t kInitHartRights = kRightRun | kRightGrant;
inline constexpr uint32_t kInitImageRights = kRightExec | kRightGrant;
inline constexpr uint32_t kInitMemoryRights = kRightAlloc | kRightGrant;

// One device as boot found it: its page-rounded register window and line.
struct BootDevice {
    uint64_t base;
    uint64_t size;
    uint32_t irq;
};

class BootCaps {
public:
    static constexpr size_t kMaxDevices = 16;
    static constexpr size_t kMaxHarts = 32;

    // Creates the roots in the kernel table. InvalidArgument for more devices
    // or harts than it holds; the CapSpace's errors if it is full.
    Result<void> create(CapSpace& caps, const BootDevice* devices, size_t device_count, uint32_t hart_count,
                        uint64_t initrd_base, uint64_t initrd_size);

    // Gives the app with table `table` its root capabilities: a memory pool
    // of `budget` bytes (a root of its own), a child of every hart cap, of the
    // image cap, and of each device cap whose bit is set in `device_mask`
    // (bit i: virtio slot i). Describes each in `out` (at most `max`
    // entries) and returns how many. On an error nothing is left behind.
    Result<size_t> give_init_caps(CapSpace& caps, uint16_t table, uint64_t budget, uint32_t device_mask,
                                  StartCap* out, size_t max) const;

    size_t device_count() const { return m_device_count; }
    uint32_t hart_count() const { return m_hart_count; }
    // The kernel's root cap of device slot `slot` (< device_count()).
    CapIndex device_root(size_t slot) const { return m_devices[slot]; }

private:
    CapIndex m_devices[kMaxDevices] = {};
    size_t m_device_count = 0;
    CapIndex m_harts[kMaxHarts] = {};
    uint32_t m_hart_count = 0;
    CapIndex m_image = 0;
};

// Which device slots the boot line gives an init= app: bit i = slot i (of
// `device_count`). `dev` is the value of `dev=` (nullptr: the key is absent):
// comma-separated groups NAME[:SLOT...], each giving the listed slots (all
// slots when none is listed) to the first init app called NAME. Without
// `dev=`, the first init app (`first_app`) gets every slot: the boot line
// names it by putting it first. `first_of_name`: no earlier init app has
// this app's name. Slots out of range or malformed are ignored.
uint32_t boot_device_mask(const char* dev, size_t dev_len, const char* name, size_t name_len, bool first_app,
                          bool first_of_name, size_t device_count);

// The dense hart index hart cap `cap` in `table` names, if it carries Run:
// the authority to run a dispatcher there (dispatcher_start, and an app
// spanning onto another hart). BadCapability / WrongType / NoRights as
// CapSpace::lookup. Precondition: the CapSpace's lock is held.
inline Result<uint32_t> hart_from_cap(CapSpace& caps, uint16_t table, CapIndex cap) {
    CapNode* node = TRY(caps.lookup(table, cap, kCapHart, kRightRun));
    return node->object;
}

}  // namespace ringlet
