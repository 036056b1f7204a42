// A fake virtio-mmio device for host tests: the modern register file
// (virtio 1.2 section 4.2.2), a device side that walks the available ring
// and fills the used ring, and hooks to make it misbehave on purpose.
//
// "Physical" addresses are deliberately different from virtual ones: tests
// allocate DMA memory from a DmaArena, which hands out spans whose pa is a
// fake bus address, and the device translates a pa back only if the whole
// range lies inside a registered span. A driver that puts a va (or a range
// past its buffer) into a descriptor is caught as a protocol error.
//
// FakeNic and FakeDisk build a network card and a disk on top.
#pragma once

#include <stdint.h>

#include <deque>
#include <string>
#include <vector>

#include "drivers/virtio/mmio_transport.h"
#include "drivers/virtio/mmio_window.h"

namespace ringlet::virtio::test {

// Aligned host memory with fake physical addresses.
class DmaArena {
public:
    static constexpr uint64_t kBusBase = 0x8000'0000ull;
    explicit DmaArena(size_t bytes);
    ~DmaArena();
    DmaArena(const DmaArena&) = delete;
    DmaArena& operator=(const DmaArena&) = delete;

    // `len` bytes aligned to `align` (power of two), zero-filled; aborts the
    // test if the arena is exhausted.
    DmaSpan alloc(uint32_t len, uint32_t align = 64);
    // The host pointer for bus address [pa, pa+len), or nullptr if it is not
    // entirely inside the arena.
    uint8_t* translate(uint64_t pa, uint64_t len) const;
    uint64_t pa_of(const void* va) const { return kBusBase + (static_cast<const uint8_t*>(va) - m_base); }

private:
    uint8_t* m_base;
    size_t m_size;
    size_t m_next = 0;
};

// One element of a chain as the device sees it.
struct DeviceBuffer {
    uint8_t* va;
    uint32_t len;
};
struct DeviceChain {
    uint16_t head = 0;
    std::vector<DeviceBuffer> readable;
    std::vector<DeviceBuffer> writable;
    std::vector<uint8_t> gather() const;  // all readable bytes, in order
    uint32_t writable_bytes() const;
    // Copies `data` into the writable buffers in order; returns bytes written.
    uint32_t scatter(const uint8_t* data, uint32_t len) const;
};

class FakeDevice : public MmioDevice {
public:
    struct Queue {
        uint32_t num_max = 256;
        uint32_t num = 0;
        uint32_t ready = 0;
        uint64_t desc = 0, driver = 0, device = 0;
        uint16_t last_avail = 0;  // device's cursor into the avail ring
        uint32_t notifies = 0;    // QueueNotify writes for this queue
    };

    FakeDevice(DmaArena* arena, uint32_t device_id, uint64_t features, uint32_t num_queues,
               uint32_t config_bytes);
    virtual ~FakeDevice() = default;

    MmioWindow window() { return MmioWindow(this); }

    // MmioDevice.
    uint32_t mmio_read(uint32_t offset, uint32_t width) override;
    void mmio_write(uint32_t offset, uint32_t value, uint32_t width) override;
    void mmio_fence(Fence f) override { ++fences[static_cast<int>(f)]; }

    // Device side. The next available chain of queue q (false if none);
    // walks the descriptors with the checks a real device makes.
    bool next_chain(uint32_t q, DeviceChain& out);
    // Puts `head` in the used ring with `len` and raises an interrupt unless
    // the driver suppressed it (section 2.7.7).
    void complete(uint32_t q, uint16_t head, uint32_t len);
    // Raw access to the rings for misbehaviour tests.
    uint16_t avail_idx(uint32_t q);
    uint16_t used_idx(uint32_t q);
    void set_used_idx(uint32_t q, uint16_t idx);
    void write_used_elem(uint32_t q, uint16_t slot, uint32_t id, uint32_t len);
    void set_used_flags(uint32_t q, uint16_t flags);   // VIRTQ_USED_F_NO_NOTIFY
    void set_avail_event(uint32_t q, uint16_t event);  // with EVENT_IDX
    uint16_t avail_flags(uint32_t q);
    uint16_t used_event(uint32_t q);
    bool event_idx() const { return (driver_features & feature::kEventIdx) != 0; }
    void raise_config_change();

    // Called on each QueueNotify write when auto_service is set.
    virtual void on_notify(uint32_t) {}
    // Called when the driver resets the device: device-specific state goes.
    virtual void on_reset() {}

    // Register file and knobs, public so tests can poke them.
    DmaArena* arena;
    uint32_t magic = kMagic;
    uint32_t version = kModernVersion;
    uint32_t device_id;
    uint32_t vendor_id = 0x554d4551;  // "QEMU"
    uint64_t device_features;
    uint64_t driver_features = 0;
    uint32_t device_features_sel = 0, driver_features_sel = 0, queue_sel = 0;
    uint32_t status = 0;
    uint32_t interrupt_status = 0;
    uint32_t config_generation = 0;
    std::vector<Queue> queues;
    std::vector<uint8_t> config;

    bool refuse_features_ok = false;   // leave FEATURES_OK clear
    uint32_t reset_delay_reads = 0;    // Status reads that still show the old value after a reset
    uint32_t generation_churn = 0;     // ConfigGeneration reads that return a new value
    bool auto_service = false;
    bool writes_len_plus_one = false;  // misbehave: used len one beyond what was written

    uint32_t resets = 0;
    uint32_t interrupts = 0;
    uint64_t fences[4] = {};
    std::vector<uint32_t> config_access_widths;  // width of each config-space read
    std::vector<std::string> errors;             // driver protocol violations seen

private:
    uint8_t* ring(uint32_t q, uint64_t offset, uint64_t len);
    void reset_state();
    uint32_t m_pending_status_reads = 0;
    uint32_t m_stale_status = 0;
};

// A NIC: frames the driver transmits are recorded and (if loopback) arrive
// on the RX queue of the same pair; tests can also inject frames. With
// max_pairs > 1 (or CTRL_VQ offered) it has max_pairs queue pairs and a
// control queue (fake_net_control.cc) that answers MQ commands as QEMU does.
class FakeNic : public FakeDevice {
public:
    static constexpr uint32_t kHdr = 12;
    FakeNic(DmaArena* arena, uint64_t features, uint16_t max_pairs = 1);

    // Consumes TX chains, then delivers pending frames into RX buffers, on
    // every pair; then answers control commands.
    void service();
    void on_notify(uint32_t) override { service(); }
    // A reset puts the device back on one pair without RSS (section 5.1.6.5.5).
    void on_reset() override;
    void inject(std::vector<uint8_t> frame) { pending_rx.push_back(std::move(frame)); }
    void inject_on(uint16_t pair, std::vector<uint8_t> frame);

    // Multiqueue: what the control queue received and did.
    uint16_t max_pairs;
    uint16_t active_pairs = 1;            // the device's curr_queue_pairs
    bool refuse_commands = false;         // ack every command with VIRTIO_NET_ERR
    bool ignore_commands = false;         // never complete a command
    std::vector<std::vector<uint8_t>> commands;  // each command's bytes: class, command, data
    bool rss_on = false;
    uint32_t rss_hash_types = 0;
    uint16_t rss_unclassified = 0;
    std::vector<uint16_t> rss_table;
    std::vector<uint8_t> rss_key;
    std::vector<uint16_t> sent_pair;      // the pair each sent frame came on
    std::vector<std::deque<std::vector<uint8_t>>> pending_rx_pair;  // [0] unused: pending_rx

    bool loopback = true;
    std::vector<std::vector<uint8_t>> sent;      // frames without the header
    std::vector<std::vector<uint8_t>> sent_hdrs; // the 12-byte headers
    std::deque<std::vector<uint8_t>> pending_rx;
    uint8_t rx_hdr_flags = 0;  // virtio_net_hdr.flags the device puts on RX

private:
    void service_control();
    uint8_t run_command(const std::vector<uint8_t>& c);
    std::deque<std::vector<uint8_t>>& pending_for(uint16_t pair) {
        return pair == 0 ? pending_rx : pending_rx_pair[pair];
    }
};

// A disk of `sectors` 512-byte sectors held in memory, with `num_queues`
// request queues (config num_queues; VIRTIO_BLK_F_MQ is the caller's to offer).
class FakeDisk : public FakeDevice {
public:
    FakeDisk(DmaArena* arena, uint64_t features, uint64_t sectors, uint16_t num_queues = 1);
    void service();
    void on_notify(uint32_t) override { service(); }

    std::vector<uint8_t> data;
    int force_status = -1;          // >= 0: report this status byte for every request
    int64_t ioerr_sector = -1;      // a request touching this sector gets IOERR
    bool short_len = false;         // misbehave: report one byte less than written
    uint32_t flushes = 0;
    std::vector<uint32_t> requests_on;  // requests served per queue

private:
    void service_queue(uint32_t q);
};

}  // namespace ringlet::virtio::test
