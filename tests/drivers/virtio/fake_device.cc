#include "tests/drivers/virtio/fake_device.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>

namespace ringlet::virtio::test {

// ---------------------------------------------------------------- DmaArena

DmaArena::DmaArena(size_t bytes) : m_size(bytes) {
    m_base = static_cast<uint8_t*>(aligned_alloc(4096, (bytes + 4095) & ~size_t{4095}));
    if (m_base == nullptr) abort();
    memset(m_base, 0, bytes);
}

DmaArena::~DmaArena() { free(m_base); }

DmaSpan DmaArena::alloc(uint32_t len, uint32_t align) {
    size_t at = (m_next + align - 1) & ~size_t{align - 1};
    if (at + len > m_size) abort();
    m_next = at + len;
    DmaSpan s;
    s.va = m_base + at;
    s.pa = kBusBase + at;
    s.len = len;
    return s;
}

uint8_t* DmaArena::translate(uint64_t pa, uint64_t len) const {
    if (pa < kBusBase || len > m_size || pa - kBusBase > m_size - len) return nullptr;
    return m_base + (pa - kBusBase);
}

// ------------------------------------------------------------- DeviceChain

std::vector<uint8_t> DeviceChain::gather() const {
    std::vector<uint8_t> out;
    for (const auto& b : readable) out.insert(out.end(), b.va, b.va + b.len);
    return out;
}

uint32_t DeviceChain::writable_bytes() const {
    uint32_t n = 0;
    for (const auto& b : writable) n += b.len;
    return n;
}

uint32_t DeviceChain::scatter(const uint8_t* data, uint32_t len) const {
    uint32_t done = 0;
    for (const auto& b : writable) {
        if (done == len) break;
        uint32_t n = std::min(b.len, len - done);
        memcpy(b.va, data + done, n);
        done += n;
    }
    return done;
}

// -------------------------------------------------------------- FakeDevice

FakeDevice::FakeDevice(DmaArena* a, uint32_t id, uint64_t features, uint32_t num_queues, uint32_t config_bytes)
    : arena(a), device_id(id), device_features(features), queues(num_queues), config(config_bytes) {}

void FakeDevice::reset_state() {
    ++resets;
    driver_features = 0;
    interrupt_status = 0;
    for (auto& q : queues) {
        uint32_t max = q.num_max;
        uint32_t notifies = q.notifies;
        q = Queue{};
        q.num_max = max;
        q.notifies = notifies;
    }
    on_reset();
}

uint32_t FakeDevice::mmio_read(uint32_t offset, uint32_t width) {
    if (offset >= reg::kConfig) {
        config_access_widths.push_back(width);
        uint32_t at = offset - reg::kConfig;
        if (at + width > config.size() || (at % width) != 0) {
            errors.push_back("config read out of range or unaligned at " + std::to_string(at));
            return 0;
        }
        uint32_t v = 0;
        memcpy(&v, &config[at], width);
        return v;
    }
    if (width != 4) errors.push_back("non-32-bit register read at " + std::to_string(offset));
    Queue* q = queue_sel < queues.size() ? &queues[queue_sel] : nullptr;
    switch (offset) {
    case reg::kMagicValue: return magic;
    case reg::kVersion: return version;
    case reg::kDeviceId: return device_id;
    case reg::kVendorId: return vendor_id;
    case reg::kDeviceFeatures:
        return device_features_sel == 0 ? static_cast<uint32_t>(device_features)
               : device_features_sel == 1 ? static_cast<uint32_t>(device_features >> 32)
                                          : 0;
    case reg::kQueueNumMax: return q ? q->num_max : 0;
    case reg::kQueueReady: return q ? q->ready : 0;
    case reg::kInterruptStatus: return interrupt_status;
    case reg::kStatus:
        if (m_pending_status_reads > 0) {
            --m_pending_status_reads;
            return m_stale_status;
        }
        return status;
    case reg::kConfigGeneration:
        if (generation_churn > 0) {
            --generation_churn;
            return ++config_generation;
        }
        return config_generation;
    default:
        errors.push_back("read of write-only or unknown register " + std::to_string(offset));
        return 0;
    }
}

void FakeDevice::mmio_write(uint32_t offset, uint32_t value, uint32_t width) {
    if (width != 4) errors.push_back("non-32-bit register write");
    Queue* q = queue_sel < queues.size() ? &queues[queue_sel] : nullptr;
    bool queue_reg = offset == reg::kQueueNum || offset == reg::kQueueReady ||
                     (offset >= reg::kQueueDescLow && offset <= reg::kQueueDeviceHigh);
    if (queue_reg) {
        if (q == nullptr) {
            errors.push_back("queue register write with no such queue selected");
            return;
        }
        if ((status & status::kFeaturesOk) == 0 || (status & status::kDriverOk) != 0) {
            errors.push_back("queue set up outside FEATURES_OK..DRIVER_OK");
        }
        if (q->ready && offset != reg::kQueueReady) errors.push_back("queue register changed while ready");
    }
    switch (offset) {
    case reg::kDeviceFeaturesSel: device_features_sel = value; return;
    case reg::kDriverFeaturesSel: driver_features_sel = value; return;
    case reg::kDriverFeatures:
        if ((status & status::kFeaturesOk) != 0) errors.push_back("features written after FEATURES_OK");
        if ((status & status::kDriver) == 0) errors.push_back("features written before DRIVER");
        if (driver_features_sel == 0) {
            driver_features = (driver_features & ~0xffffffffull) | value;
        } else if (driver_features_sel == 1) {
            driver_features = (driver_features & 0xffffffffull) | (uint64_t{value} << 32);
        }
        return;
    case reg::kQueueSel: queue_sel = value; return;
    case reg::kQueueNum:
        if (value > q->num_max || value == 0) errors.push_back("QueueNum out of range");
        q->num = value;
        return;
    case reg::kQueueDescLow: q->desc = (q->desc & ~0xffffffffull) | value; return;
    case reg::kQueueDescHigh: q->desc = (q->desc & 0xffffffffull) | (uint64_t{value} << 32); return;
    case reg::kQueueDriverLow: q->driver = (q->driver & ~0xffffffffull) | value; return;
    case reg::kQueueDriverHigh: q->driver = (q->driver & 0xffffffffull) | (uint64_t{value} << 32); return;
    case reg::kQueueDeviceLow: q->device = (q->device & ~0xffffffffull) | value; return;
    case reg::kQueueDeviceHigh: q->device = (q->device & 0xffffffffull) | (uint64_t{value} << 32); return;
    case reg::kQueueReady:
        if (value == 1) {
            uint32_t n = q->num;
            if ((q->desc & 15) || (q->driver & 1) || (q->device & 3)) errors.push_back("misaligned ring");
            if (!arena->translate(q->desc, 16ull * n) || !arena->translate(q->driver, 6 + 2ull * n) ||
                !arena->translate(q->device, 6 + 8ull * n)) {
                errors.push_back("ring outside DMA memory");
            }
        }
        q->ready = value;
        return;
    case reg::kQueueNotify:
        if ((status & status::kDriverOk) == 0) errors.push_back("notify before DRIVER_OK");
        if (value >= queues.size()) {
            errors.push_back("notify of a queue that does not exist");
            return;
        }
        ++queues[value].notifies;
        if (auto_service) on_notify(value);
        return;
    case reg::kInterruptAck: interrupt_status &= ~value; return;
    case reg::kStatus:
        if (value == 0) {
            reset_state();
            m_stale_status = status;
            m_pending_status_reads = reset_delay_reads;
            status = 0;
            return;
        }
        if ((value & status) != status) errors.push_back("status bit cleared without reset");
        if ((value & status::kFeaturesOk) && !(status & status::kFeaturesOk)) {
            bool subset = (driver_features & ~device_features) == 0;
            if (!subset) errors.push_back("driver accepted features the device did not offer");
            if (refuse_features_ok || !subset) value &= ~status::kFeaturesOk;
        }
        if ((value & status::kDriverOk) && !(value & status::kFeaturesOk)) errors.push_back("DRIVER_OK without FEATURES_OK");
        status = value;
        return;
    default: errors.push_back("write to read-only or unknown register " + std::to_string(offset));
    }
}

uint8_t* FakeDevice::ring(uint32_t, uint64_t pa, uint64_t len) {
    uint8_t* p = arena->translate(pa, len);
    if (p == nullptr) {
        // Keep the test alive to report it: point at scratch memory.
        errors.push_back("ring access outside DMA memory");
        static uint8_t scratch[64];
        memset(scratch, 0, sizeof scratch);
        return scratch;
    }
    return p;
}

uint16_t FakeDevice::avail_idx(uint32_t q) {
    uint16_t v;
    memcpy(&v, ring(q, queues[q].driver + 2, 2), 2);
    return v;
}
uint16_t FakeDevice::avail_flags(uint32_t q) {
    uint16_t v;
    memcpy(&v, ring(q, queues[q].driver, 2), 2);
    return v;
}
uint16_t FakeDevice::used_event(uint32_t q) {
    uint16_t v;
    memcpy(&v, ring(q, queues[q].driver + 4 + 2ull * queues[q].num, 2), 2);
    return v;
}
uint16_t FakeDevice::used_idx(uint32_t q) {
    uint16_t v;
    memcpy(&v, ring(q, queues[q].device + 2, 2), 2);
    return v;
}
void FakeDevice::set_used_idx(uint32_t q, uint16_t idx) { memcpy(ring(q, queues[q].device + 2, 2), &idx, 2); }
void FakeDevice::set_used_flags(uint32_t q, uint16_t flags) { memcpy(ring(q, queues[q].device, 2), &flags, 2); }
void FakeDevice::set_avail_event(uint32_t q, uint16_t event) {
    memcpy(ring(q, queues[q].device + 4 + 8ull * queues[q].num, 2), &event, 2);
}
void FakeDevice::write_used_elem(uint32_t q, uint16_t slot, uint32_t id, uint32_t len) {
    uint8_t* e = ring(q, queues[q].device + 4 + 8ull * (slot % queues[q].num), 8);
    memcpy(e, &id, 4);
    memcpy(e + 4, &len, 4);
}

bool FakeDevice::next_chain(uint32_t qi, DeviceChain& out) {
    Queue& q = queues[qi];
    if (!q.ready || (status & status::kDriverOk) == 0) return false;
    if (q.last_avail == avail_idx(qi)) return false;
    uint16_t head;
    memcpy(&head, ring(qi, q.driver + 4 + 2ull * (q.last_avail % q.num), 2), 2);
    ++q.last_avail;
    // Like QEMU: with EVENT_IDX, ask to be notified of the next entry.
    if (event_idx()) set_avail_event(qi, q.last_avail);
    if (head >= q.num) {
        errors.push_back("avail ring names descriptor out of range");
        return false;
    }
    out = DeviceChain{};
    out.head = head;
    uint16_t d = head;
    for (uint32_t steps = 0;; ++steps) {
        if (steps >= q.num) {
            errors.push_back("descriptor chain loops");
            return false;
        }
        uint8_t* desc = ring(qi, q.desc + 16ull * d, 16);
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
        memcpy(&addr, desc, 8);
        memcpy(&len, desc + 8, 4);
        memcpy(&flags, desc + 12, 2);
        memcpy(&next, desc + 14, 2);
        uint8_t* va = arena->translate(addr, len);
        if (va == nullptr) {
            errors.push_back("descriptor points outside DMA memory");
            return false;
        }
        if (flags & 2) {
            out.writable.push_back({va, len});
        } else {
            if (!out.writable.empty()) errors.push_back("readable descriptor after a writable one");
            out.readable.push_back({va, len});
        }
        if (!(flags & 1)) break;
        if (next >= q.num) {
            errors.push_back("descriptor next out of range");
            return false;
        }
        d = next;
    }
    return true;
}

void FakeDevice::complete(uint32_t qi, uint16_t head, uint32_t len) {
    uint16_t idx = used_idx(qi);
    write_used_elem(qi, idx, head, writes_len_plus_one ? len + 1 : len);
    set_used_idx(qi, static_cast<uint16_t>(idx + 1));
    // Section 2.7.7, device side: with EVENT_IDX interrupt when the entry
    // just written sits at used_event; otherwise unless NO_INTERRUPT.
    bool notify = event_idx() ? used_event(qi) == idx : (avail_flags(qi) & 1) == 0;
    if (notify) {
        interrupt_status |= kInterruptUsedBuffer;
        ++interrupts;
    }
}

void FakeDevice::raise_config_change() {
    ++config_generation;
    interrupt_status |= kInterruptConfigChange;
    ++interrupts;
}

// ----------------------------------------------------------------- FakeNic

FakeNic::FakeNic(DmaArena* a, uint64_t features, uint16_t pairs)
    : FakeDevice(a, kDeviceNet, features,
                 pairs > 1 || (features & (1ull << 17)) ? 2u * pairs + 1 : 2u,  // + control queue
                 pairs > 1 || (features & (1ull << 17)) ? 24u : 12u),
      max_pairs(pairs),
      pending_rx_pair(pairs) {
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(config.data(), mac, 6);
    config[6] = 1;  // status: VIRTIO_NET_S_LINK_UP
    if (config.size() >= 24) {
        // max_virtqueue_pairs, and QEMU 7.2's RSS limits: a 40-byte key, 128
        // table entries, IPv4/TCPv4/UDPv4 (+ IPv6 ones, 0x1ff in all).
        memcpy(&config[8], &pairs, 2);
        config[17] = 40;
        uint16_t table = 128;
        memcpy(&config[18], &table, 2);
        uint32_t types = 0x1ff;
        memcpy(&config[20], &types, 4);
    }
}

void FakeNic::on_reset() {
    active_pairs = 1;
    rss_on = false;
    rss_table.clear();
    rss_key.clear();
}

void FakeNic::inject_on(uint16_t pair, std::vector<uint8_t> frame) { pending_for(pair).push_back(std::move(frame)); }

void FakeNic::service() {
    DeviceChain c;
    for (uint16_t pair = 0; pair < max_pairs; ++pair) {
        const uint32_t txq = 2u * pair + 1;
        while (next_chain(txq, c)) {
            std::vector<uint8_t> bytes = c.gather();
            if (!c.writable.empty()) errors.push_back("TX chain has writable descriptors");
            if (pair >= active_pairs) errors.push_back("TX on a queue pair the device does not use");
            if (bytes.size() < kHdr) {
                errors.push_back("TX chain shorter than the net header");
                complete(txq, c.head, 0);
                continue;
            }
            sent_hdrs.emplace_back(bytes.begin(), bytes.begin() + kHdr);
            std::vector<uint8_t> frame(bytes.begin() + kHdr, bytes.end());
            if (loopback) pending_for(pair).push_back(frame);
            sent.push_back(std::move(frame));
            sent_pair.push_back(pair);
            complete(txq, c.head, 0);
        }
        auto& pending = pending_for(pair);
        const uint32_t rxq = 2u * pair;
        while (!pending.empty() && next_chain(rxq, c)) {
            const std::vector<uint8_t>& frame = pending.front();
            if (!c.readable.empty()) errors.push_back("RX chain has readable descriptors");
            std::vector<uint8_t> buf(kHdr + frame.size());
            buf[0] = rx_hdr_flags;
            buf[10] = 1;  // num_buffers = 1
            memcpy(buf.data() + kHdr, frame.data(), frame.size());
            if (buf.size() > c.writable_bytes()) {
                errors.push_back("RX buffer too small for a frame");
                buf.resize(c.writable_bytes());
            }
            uint32_t n = c.scatter(buf.data(), static_cast<uint32_t>(buf.size()));
            complete(rxq, c.head, n);
            pending.pop_front();
        }
    }
    if (queues.size() > 2u * max_pairs) service_control();
}

// ---------------------------------------------------------------- FakeDisk

FakeDisk::FakeDisk(DmaArena* a, uint64_t features, uint64_t sectors, uint16_t num_queues)
    : FakeDevice(a, kDeviceBlock, features, num_queues, 60), data(sectors * 512), requests_on(num_queues) {
    memcpy(config.data(), &sectors, 8);  // capacity, in 512-byte sectors
    memcpy(config.data() + 34, &num_queues, 2);
}

void FakeDisk::service() {
    for (uint32_t q = 0; q < queues.size(); ++q) service_queue(q);
}

void FakeDisk::service_queue(uint32_t q) {
    DeviceChain c;
    while (next_chain(q, c)) {
        ++requests_on[q];
        std::vector<uint8_t> in = c.gather();
        if (in.size() < 16 || c.writable.empty() || c.writable.back().len != 1) {
            errors.push_back("malformed blk request chain");
            complete(q, c.head, 0);
            continue;
        }
        uint32_t type;
        uint64_t sector;
        memcpy(&type, in.data(), 4);
        memcpy(&sector, in.data() + 8, 8);
        uint8_t st = 0;
        uint32_t written = 1;
        uint64_t capacity = data.size() / 512;
        uint32_t data_in = c.writable_bytes() - 1;
        auto touches = [&](uint64_t bytes) {
            return ioerr_sector >= 0 && uint64_t(ioerr_sector) >= sector &&
                   uint64_t(ioerr_sector) < sector + (bytes + 511) / 512;
        };
        if (type == 0) {  // IN
            if (data_in % 512 || sector > capacity || data_in / 512 > capacity - sector || touches(data_in)) {
                st = 1;
            } else {
                std::vector<uint8_t> out(data.begin() + sector * 512, data.begin() + sector * 512 + data_in);
                c.scatter(out.data(), data_in);
            }
            written = data_in + 1;
        } else if (type == 1) {  // OUT
            uint64_t n = in.size() - 16;
            if (n % 512 || sector > capacity || n / 512 > capacity - sector || touches(n)) {
                st = 1;
            } else {
                memcpy(&data[sector * 512], in.data() + 16, n);
            }
        } else if (type == 4) {  // FLUSH
            if (!(driver_features & (1ull << 9))) errors.push_back("FLUSH without VIRTIO_BLK_F_FLUSH");
            ++flushes;
        } else {
            st = 2;  // UNSUPP
        }
        if (force_status >= 0) st = static_cast<uint8_t>(force_status);
        c.writable.back().va[0] = st;
        complete(q, c.head, short_len ? written - 1 : written);
    }
}

}  // namespace ringlet::virtio::test
