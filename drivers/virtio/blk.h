// BlkDevice: a virtio-blk driver (virtio 1.2 section 5.2) over one
// MmioTransport and one request queue (queue 0) - or, with VIRTIO_BLK_F_MQ
// and BlkConfig::queues > 1, one BlkDevice per request queue, each usable
// on its own from its own core (section 5.2.5: queue k is requestq k+1):
// each touches only its queue's ring and QueueNotify; ack_interrupt(),
// refresh_capacity() and reset() are device-wide, one core's business.
//
// A request is a three-part chain (section 5.2.6): a 16-byte header the
// device reads, the caller's data buffer (read by the device for a write,
// written by it for a read), and a status byte the device writes. Headers
// and status bytes live in a small DMA area the caller provides (one 32-byte
// slot per request in flight); data buffers are the caller's and stay so,
// zero-copy: the buffer belongs to the device until poll() returns its cookie.
#pragma once

#include <stdint.h>

#include "drivers/virtio/mmio_transport.h"
#include "drivers/virtio/virtqueue.h"
#include "ringlet/result.h"

namespace ringlet::virtio {

// Feature bits (section 5.2.3).
namespace blk_feature {
inline constexpr uint64_t kSizeMax = 1ull << 1;
inline constexpr uint64_t kSegMax = 1ull << 2;
inline constexpr uint64_t kRo = 1ull << 5;
inline constexpr uint64_t kBlkSize = 1ull << 6;
inline constexpr uint64_t kFlush = 1ull << 9;
inline constexpr uint64_t kMq = 1ull << 12;
}  // namespace blk_feature

class BlkDevice;

// One more request queue's memory (as BlkConfig's ring and requests).
struct BlkQueueMemory {
    DmaSpan ring;
    DmaSpan requests;
};

struct BlkConfig {
    MmioWindow window;
    DmaSpan ring;      // >= Virtqueue::ring_bytes(queue_size), 16-byte aligned
    DmaSpan requests;  // >= BlkDevice::request_bytes(queue_size), 16-byte aligned
    uint16_t queue_size = Virtqueue::kMaxSize;  // upper bound; the device may offer fewer
    // Multiqueue: request queues wanted (1 = as ever). more[k] (an inert
    // BlkDevice) drives queue k over more_memory[k], 1 <= k < queues; the
    // device may offer fewer (active_queues() says how many are live).
    uint16_t queues = 1;
    // Both arrays are read again by restart(): keep them alive.
    BlkDevice* const* more = nullptr;
    const BlkQueueMemory* more_memory = nullptr;
};

// A finished request.
struct BlkCompletion {
    uint64_t cookie = 0;
    // Ok; IoError (VIRTIO_BLK_S_IOERR); Unsupported (VIRTIO_BLK_S_UNSUPP);
    // BadFormat (a status byte the spec does not define); Truncated (the
    // device reported writing less than the data and status it owed).
    Error status = Error::Ok;
};

class BlkDevice {
public:
    static constexpr uint32_t kSectorSize = 512;  // the protocol's unit, whatever blk_size says
    static constexpr uint32_t kSlotBytes = 32;    // header (16) + status (1), padded

    static constexpr uint32_t request_bytes(uint16_t queue_size) { return kSlotBytes * queue_size; }

    // An inert device; init() brings it up. Two-phase for the same reason
    // as NetDevice (a ~10 KB object and small U-mode stacks).
    BlkDevice() = default;
    BlkDevice(const BlkDevice&) = delete;
    BlkDevice& operator=(const BlkDevice&) = delete;

    // Probes, negotiates (FLUSH and RO accepted when offered, EVENT_IDX too)
    // and brings up the device behind config.window, reading its capacity
    // (sections 3.1.1, 5.2.5). WrongType if it is not a block device; Busy
    // if called twice; InvalidArgument for a request area that is too small
    // or misaligned; the transport's errors otherwise, with FAILED set on
    // the device once the handshake had started.
    Result<void> init(const BlkConfig& config);

    // Capacity in 512-byte sectors (section 5.2.4), as read at init() or
    // the last refresh_capacity().
    uint64_t capacity() const { return m_capacity; }
    // Re-reads the capacity (after a config-change interrupt: a resize).
    Result<uint64_t> refresh_capacity();
    bool read_only() const { return (m_features & blk_feature::kRo) != 0; }
    bool can_flush() const { return (m_features & blk_feature::kFlush) != 0; }
    uint64_t features() const { return m_features; }
    uint16_t queue_size() const { return m_vq.size(); }
    MmioTransport& transport() { return m_transport; }
    // The request queue this BlkDevice drives (0 for the one init() set up).
    uint16_t queue_index() const { return m_queue_index; }
    // On the BlkDevice init() set up: request queues live, 1..queues asked
    // for (1 without VIRTIO_BLK_F_MQ); num_queues the device offers.
    uint16_t active_queues() const { return m_active_queues; }
    uint16_t device_queues() const { return m_device_queues; }

    // Submits a read of buffer.len bytes from `sector` into `buffer` and
    // notifies the device. InvalidArgument if len is 0 or not a multiple of
    // 512; OutOfRange if the request runs past capacity(); Full if no slot
    // or descriptors are free; nothing is submitted on error.
    Result<void> read(uint64_t sector, DmaSpan buffer, uint64_t cookie);
    // Submits a write; as read(), plus Unsupported on a read-only device.
    Result<void> write(uint64_t sector, DmaSpan buffer, uint64_t cookie);
    // Submits a flush of the device's write cache. Unsupported unless the
    // device offered VIRTIO_BLK_F_FLUSH.
    Result<void> flush(uint64_t cookie);

    // The next finished request: Empty if none; BadFormat if the device
    // broke the ring (reset it). A failed request is a completion with a
    // non-Ok status, not an error of poll() itself.
    Result<BlkCompletion> poll();
    // Whether the device has finished requests poll() has not taken: one
    // load of the used index, safe from another core (the owner of the
    // device's interrupt line looks at a sleeping core's queue this way).
    bool pending() const { return m_vq.has_used(); }

    uint32_t ack_interrupt() { return m_transport.ack_interrupt(); }
    void disable_interrupts() { m_vq.disable_interrupts(); }
    // True means completions arrived meanwhile: poll instead of sleeping.
    bool enable_interrupts() { return m_vq.enable_interrupts(); }

    // Resets the device; afterwards reclaim() hands back the cookie of every
    // request it still held (Empty when done). The BlkDevice is then dead
    // until restart().
    Result<void> reset() { return m_transport.reset(); }
    Result<uint64_t> reclaim();
    // Recovery from a device that broke its ring or asked for a reset
    // (recovery.cc): once reset() and reclaim() have taken every request
    // back, brings the device up again as init() did, over the same memory.
    // On a multiqueue device (called on queue 0's BlkDevice, once the
    // cores of the other queues have stopped and reclaimed theirs) every
    // queue comes back: BlkConfig::more and more_memory must still point
    // at live arrays. Busy while any queue still holds a request;
    // InvalidArgument on a further queue's BlkDevice; Unsupported if the
    // device now offers other features or fewer queues than before; the
    // transport's errors otherwise, with FAILED set on the device.
    Result<void> restart();

private:
    struct Slot {
        uint64_t cookie;
        uint32_t owed;  // bytes the device must report: data it fills + status
        bool busy;
    };

    Result<void> bring_up(const BlkConfig& config);
    Result<void> setup_queue(uint16_t index, DmaSpan ring, DmaSpan requests, uint16_t queue_size);
    Result<void> setup_more_queues(const BlkConfig& config);
    // Makes this inert BlkDevice the driver of queue `index` of `primary`.
    Result<void> attach_queue(BlkDevice& primary, uint16_t index, const BlkQueueMemory& memory,
                              uint16_t queue_size);
    Result<void> submit(uint32_t type, uint64_t sector, const DmaSpan* data, bool device_writes, uint64_t cookie);
    Result<void> check_range(uint64_t sector, const DmaSpan& buffer) const;
    int32_t alloc_slot();

    MmioTransport m_transport;
    Virtqueue m_vq;
    BlkConfig m_config;  // as init() was given it, for restart()
    DmaSpan m_requests;
    uint64_t m_features = 0;
    uint64_t m_capacity = 0;
    bool m_started = false;
    uint16_t m_queue_index = 0;
    uint16_t m_active_queues = 1;
    uint16_t m_device_queues = 1;
    uint64_t m_slot_free[Virtqueue::kMaxSize / 64] = {};
    Slot m_slots[Virtqueue::kMaxSize] = {};
};

}  // namespace ringlet::virtio
