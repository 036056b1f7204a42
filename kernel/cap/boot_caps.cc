#include "kernel/cap/boot_caps.h"

namespace ringlet {

Result<void> BootCaps::create(CapSpace& caps, const BootDevice* devices, size_t device_count, uint32_t hart_count,
                              uint64_t initrd_base, uint64_t initrd_size) {
    if (device_count > kMaxDevices || hart_count > kMaxHarts) return Error::InvalidArgument;
    const uint16_t k = CapSpace::kKernelTable;
    for (size_t i = 0; i < device_count; ++i) {
        m_devices[i] = TRY(caps.insert_root(k, kCapDevice, kInitDeviceRights, devices[i].base, devices[i].size,
                                            devices[i].irq, static_cast<uint32_t>(i)));
        m_device_count = i + 1;
    }
    for (uint32_t h = 0; h < hart_count; ++h) {
        m_harts[h] = TRY(caps.insert_root(k, kCapHart, kInitHartRights, 0, 0, 0, h));
        m_hart_count = h + 1;
    }
    m_image = TRY(caps.insert_root(k, kCapImage, kInitImageRights, initrd_base, initrd_size));
    return {};
}

Result<size_t> BootCaps::give_init_caps(CapSpace& caps, uint16_t table, uint64_t budget, uint32_t device_mask,
                                        StartCap* out, size_t max) const {
    size_t n = 0;
    CapIndex given[1 + kMaxHarts + 1 + kMaxDevices];
    auto undo = [&](Error e) -> Result<size_t> {
        while (n > 0) (void)caps.remove(table, given[--n]);
        return e;
    };
    auto add = [&](Result<CapIndex> cap, uint8_t type, uint32_t tag) -> Result<void> {
        if (!cap) return cap.error();
        given[n] = *cap;
        if (n >= max) {
            ++n;  // undo removes it too
            return Error::Full;
        }
        out[n++] = StartCap{*cap, type, kStartFromBoot, 0, tag};
        return {};
    };
    const uint16_t k = CapSpace::kKernelTable;
    if (auto r = add(caps.insert_root(table, kCapMemory, kInitMemoryRights, 0, budget), kCapMemory, 0); !r)
        return undo(r.error());
    for (uint32_t h = 0; h < m_hart_count; ++h)
        if (auto r = add(caps.grant(k, m_harts[h], table, kInitHartRights), kCapHart, h); !r) return undo(r.error());
    if (auto r = add(caps.grant(k, m_image, table, kInitImageRights), kCapImage, 0); !r) return undo(r.error());
    for (size_t i = 0; i < m_device_count; ++i) {
        if (!(device_mask >> i & 1)) continue;
        if (auto r = add(caps.grant(k, m_devices[i], table, kInitDeviceRights), kCapDevice, static_cast<uint32_t>(i));
            !r)
            return undo(r.error());
    }
    return n;
}

uint32_t boot_device_mask(const char* dev, size_t dev_len, const char* name, size_t name_len, bool first_app,
                          bool first_of_name, size_t device_count) {
    const uint32_t all = device_count >= 32 ? ~0u : (1u << device_count) - 1;
    if (!dev) return first_app ? all : 0;
    if (!first_of_name) return 0;
    uint32_t mask = 0;
    for (size_t pos = 0; pos < dev_len;) {
        size_t end = pos;
        while (end < dev_len && dev[end] != ',') ++end;
        size_t name_end = pos;
        while (name_end < end && dev[name_end] != ':') ++name_end;
        if (name_end - pos == name_len && __builtin_memcmp(dev + pos, name, name_len) == 0) {
            if (name_end == end) mask |= all;  // no slots listed: every one
            for (size_t i = name_end; i < end;) {
                size_t slot = 0, digits = 0;
                for (++i; i < end && dev[i] >= '0' && dev[i] <= '9' && digits < 3; ++i, ++digits)
                    slot = slot * 10 + static_cast<size_t>(dev[i] - '0');
                if (digits && (i == end || dev[i] == ':') && slot < device_count && slot < 32) mask |= 1u << slot;
                while (i < end && dev[i] != ':') ++i;
            }
        }
        pos = end + 1;
    }
    return mask;
}

}  // namespace ringlet
