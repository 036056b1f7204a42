#include "drivers/virtio/blk.h"

#include "ringlet/bits.h"

namespace ringlet::virtio {

namespace {

// Request types and status values (section 5.2.6).
constexpr uint32_t kTypeIn = 0;
constexpr uint32_t kTypeOut = 1;
constexpr uint32_t kTypeFlush = 4;
constexpr uint8_t kStatusOk = 0;
constexpr uint8_t kStatusIoErr = 1;
constexpr uint8_t kStatusUnsupp = 2;

// struct virtio_blk_req's leading part (section 5.2.6).
struct RequestHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16, "virtio_blk_req header layout");
constexpr uint32_t kStatusOffset = 16;

// Config space (section 5.2.4): capacity is a 64-bit field at offset 0;
// num_queues (le16, with MQ) follows geometry, blk_size, topology and
// writeback.
constexpr uint32_t kConfigCapacity = 0;
constexpr uint32_t kConfigNumQueues = 34;

}  // namespace

Result<void> BlkDevice::init(const BlkConfig& config) {
    if (m_started) return Error::Busy;
    m_config = config;
    return open_device(m_transport, config.window, kDeviceBlock, [&] {
        m_started = true;
        return bring_up(config);
    });
}

Result<void> BlkDevice::bring_up(const BlkConfig& config) {
    // Section 5.2.5: RO must be honoured if offered (we accept it and refuse
    // writes); FLUSH lets us ask for durability. SIZE_MAX/SEG_MAX are not
    // taken: each request has one data segment of the caller's size.
    // MQ only when more than one queue is wanted.
    uint64_t wanted = blk_feature::kRo | blk_feature::kFlush | feature::kEventIdx;
    if (config.queues > 1) wanted |= blk_feature::kMq;
    m_features = TRY(m_transport.negotiate(wanted, 0));
    m_capacity = TRY(refresh_capacity());
    TRY(setup_queue(0, config.ring, config.requests, config.queue_size));
    // Every queue is set up before DRIVER_OK (section 3.1.1 step 7).
    if (config.queues > 1) TRY(setup_more_queues(config));
    return m_transport.driver_ok();
}

Result<void> BlkDevice::setup_queue(uint16_t index, DmaSpan ring, DmaSpan requests, uint16_t queue_size) {
    {
        auto q = Virtqueue::setup(m_transport, index, ring, queue_size);
        if (!q.ok()) return q.error();
        m_vq = *q;
    }
    if (requests.va == nullptr || (reinterpret_cast<uintptr_t>(requests.va) & 15) != 0 || (requests.pa & 15) != 0 ||
        requests.len < request_bytes(m_vq.size())) {
        return Error::InvalidArgument;
    }
    m_queue_index = index;
    m_requests = requests;
    for (uint16_t i = 0; i < m_vq.size(); ++i) m_slot_free[i / 64] |= 1ull << (i % 64);
    return {};
}

Result<void> BlkDevice::setup_more_queues(const BlkConfig& config) {
    // Section 5.2.5: without MQ there is one queue; with it, num_queues.
    if ((m_features & blk_feature::kMq) == 0) return {};
    uint16_t n = 0;
    TRY(m_transport.read_config_consistent([&] { n = m_transport.config16(kConfigNumQueues); }));
    if (n == 0) return Error::BadFormat;
    m_device_queues = n;
    uint16_t use = config.queues < n ? config.queues : n;
    if (use > 1 && (config.more == nullptr || config.more_memory == nullptr)) return Error::InvalidArgument;
    for (uint16_t k = 1; k < use; ++k) {
        if (config.more[k] == nullptr) return Error::InvalidArgument;
        TRY(config.more[k]->attach_queue(*this, k, config.more_memory[k], config.queue_size));
    }
    m_active_queues = use;
    return {};
}

Result<void> BlkDevice::attach_queue(BlkDevice& primary, uint16_t index, const BlkQueueMemory& memory,
                                     uint16_t queue_size) {
    if (m_started || this == &primary) return Error::Busy;
    m_transport = primary.m_transport;
    m_features = primary.m_features;
    m_capacity = primary.m_capacity;
    TRY(setup_queue(index, memory.ring, memory.requests, queue_size));
    m_started = true;
    return {};
}

Result<uint64_t> BlkDevice::refresh_capacity() {
    uint32_t lo = 0, hi = 0;
    // A 64-bit field is two 32-bit reads: only a stable generation makes
    // them one value (section 2.5.1; 4.2.2 asks for 32-bit accesses).
    TRY(m_transport.read_config_consistent([&] {
        lo = m_transport.config32(kConfigCapacity);
        hi = m_transport.config32(kConfigCapacity + 4);
    }));
    m_capacity = (static_cast<uint64_t>(hi) << 32) | lo;
    return m_capacity;
}

int32_t BlkDevice::alloc_slot() {
    for (uint32_t w = 0; w < Virtqueue::kMaxSize / 64; ++w) {
        if (m_slot_free[w] != 0) {
            uint32_t bit = count_trailing_zeros(m_slot_free[w]);
            m_slot_free[w] &= ~(1ull << bit);
            return static_cast<int32_t>(w * 64 + bit);
        }
    }
    return -1;
}

Result<void> BlkDevice::check_range(uint64_t sector, const DmaSpan& buffer) const {
    if (buffer.va == nullptr || buffer.len == 0 || buffer.len % kSectorSize != 0) return Error::InvalidArgument;
    // Section 5.2.6.1 leaves out-of-range requests to the device (IOERR);
    // we refuse them before they reach it. Written to avoid overflow.
    uint64_t count = buffer.len / kSectorSize;
    if (sector > m_capacity || count > m_capacity - sector) return Error::OutOfRange;
    return {};
}

Result<void> BlkDevice::submit(uint32_t type, uint64_t sector, const DmaSpan* data, bool device_writes,
                               uint64_t cookie) {
    if (m_vq.broken()) return Error::BadFormat;
    uint32_t descs = data != nullptr ? 3 : 2;
    if (m_vq.free_descriptors() < descs) return Error::Full;
    int32_t s = alloc_slot();
    if (s < 0) return Error::Full;

    uint8_t* slot_va = m_requests.va + static_cast<uint32_t>(s) * kSlotBytes;
    uint64_t slot_pa = m_requests.pa + static_cast<uint32_t>(s) * kSlotBytes;
    RequestHeader h{type, 0, sector};
    __builtin_memcpy(slot_va, &h, sizeof h);
    // A value the device never writes, so a completion that skipped the
    // status byte cannot pass for success by accident.
    slot_va[kStatusOffset] = 0xff;

    // Section 5.2.6: header (device-readable), data (readable for OUT,
    // writable for IN), status (device-writable), readable parts first as
    // section 2.7.4.2 requires.
    Segment readable[2];
    Segment writable[2];
    uint32_t nr = 0, nw = 0;
    readable[nr++] = Segment{slot_pa, sizeof(RequestHeader)};
    if (data != nullptr) {
        Segment d{data->pa, data->len};
        if (device_writes) {
            writable[nw++] = d;
        } else {
            readable[nr++] = d;
        }
    }
    writable[nw++] = Segment{slot_pa + kStatusOffset, 1};

    auto added = m_vq.add(readable, nr, writable, nw, static_cast<uint64_t>(s));
    if (!added.ok()) {
        m_slot_free[s / 64] |= 1ull << (s % 64);
        return added.error();
    }
    m_slots[s] = Slot{cookie, (device_writes && data != nullptr ? data->len : 0) + 1u, true};
    TRY(m_vq.kick());
    return {};
}

Result<void> BlkDevice::read(uint64_t sector, DmaSpan buffer, uint64_t cookie) {
    TRY(check_range(sector, buffer));
    return submit(kTypeIn, sector, &buffer, true, cookie);
}

Result<void> BlkDevice::write(uint64_t sector, DmaSpan buffer, uint64_t cookie) {
    if (read_only()) return Error::Unsupported;  // section 5.2.6.1: no writes to an RO device
    TRY(check_range(sector, buffer));
    return submit(kTypeOut, sector, &buffer, false, cookie);
}

Result<void> BlkDevice::flush(uint64_t cookie) {
    // Section 5.2.6.1: no FLUSH request unless VIRTIO_BLK_F_FLUSH was negotiated.
    if (!can_flush()) return Error::Unsupported;
    return submit(kTypeFlush, 0, nullptr, false, cookie);
}

Result<BlkCompletion> BlkDevice::poll() {
    Completion c = TRY(m_vq.pop());
    // The cookie on the queue is our own slot number, from memory the
    // device cannot reach; still, a slot that is not busy means a bug here.
    uint64_t s = c.cookie;
    if (s >= m_vq.size() || !m_slots[s].busy) return Error::BadFormat;
    Slot slot = m_slots[s];
    m_slots[s] = Slot{};
    m_slot_free[s / 64] |= 1ull << (s % 64);

    BlkCompletion done;
    done.cookie = slot.cookie;
    // Section 2.7.8: len counts bytes written from the first writable
    // buffer; the status byte is the last of them, so anything shorter
    // than what was owed means neither the data nor the status is known.
    uint8_t st = m_requests.va[s * kSlotBytes + kStatusOffset];
    if (c.len < slot.owed) {
        done.status = Error::Truncated;
    } else if (st == kStatusOk) {
        done.status = Error::Ok;
    } else if (st == kStatusIoErr) {
        done.status = Error::IoError;
    } else if (st == kStatusUnsupp) {
        done.status = Error::Unsupported;
    } else {
        done.status = Error::BadFormat;
    }
    return done;
}

Result<uint64_t> BlkDevice::reclaim() {
    Completion c = TRY(m_vq.reclaim());
    uint64_t s = c.cookie;
    if (s >= Virtqueue::kMaxSize) return Error::BadFormat;
    uint64_t cookie = m_slots[s].cookie;
    m_slots[s] = Slot{};
    m_slot_free[s / 64] |= 1ull << (s % 64);
    return cookie;
}

}  // namespace ringlet::virtio
