// NetMultiQueue: virtio-net multiqueue with RSS (virtio 1.2 sections
// 5.1.5, 5.1.6.5.5 and 5.1.6.5.7): several receive/transmit queue pairs, one
// per core, and the control virtqueue that turns them on and programs the
// device's receive-side steering with the same Toeplitz key and indirection
// table as the software steering (net/flow_steering.h), so a flow reaches
// the same core whether the NIC or a core steers it.
//
// How it plugs in: the caller fills a NetMultiQueue::Config (the pairs it
// wants, an inert NetDevice and rings for each pair after the first, the
// control queue's ring and buffer, the RSS key/table) and passes the object
// in NetConfig::multiqueue to NetDevice::init() of pair 0. init() asks for
// MQ + CTRL_VQ + RSS, sets every queue up before DRIVER_OK (queue 2k =
// receiveq k+1, 2k+1 = transmitq k+1, the control queue at
// 2 * max_virtqueue_pairs) and, after DRIVER_OK, sends RSS_CONFIG, which
// also sets the number of pairs in use. Each NetDevice then drives its own
// pair with the usual post_rx/poll_rx/transmit/poll_tx, from its own core.
//
// Falling back is never an init() error: without MQ/CTRL_VQ/RSS (QEMU user
// networking offers one queue), with fewer pairs than asked for, or when the
// device refuses a command, the device stays on its one default pair
// (active_pairs() == 1: pair 0 carries everything, the caller steers in
// software) and status()/status_text() say why, for a console message.
// HASH_REPORT is never negotiated: it would grow the 12-byte virtio_net_hdr
// the single-queue fast path is built around.
//
// Cores after init(): each pair's NetDevice touches only its own queues'
// rings and writes QueueNotify (one 32-bit store naming its queue), so the
// pairs run on different harts with no lock. Device-wide, hence one core's
// business: InterruptStatus/InterruptAck (ack_interrupt()), config space
// (link_up()), reset() (it resets every pair) and pair 0's restart(), which
// sets every pair up again and sends the same RSS_CONFIG: the cores must
// have stopped and given their buffers back first (net/virtio_nic_recovery.h
// coordinates that). virtio-mmio has one
// interrupt line for all queues: whichever core takes it acks it and wakes
// the others; each core's enable_interrupts() before it sleeps re-reads its
// own used ring, so a core never sleeps on work that already arrived.
#pragma once

#include <stdint.h>

#include "drivers/virtio/mmio_transport.h"
#include "drivers/virtio/virtqueue.h"
#include "ringlet/result.h"

namespace ringlet::virtio {

class NetDevice;

// RSS hash types (section 5.1.6.4.1), for RssSettings::hash_types.
namespace rss_hash {
inline constexpr uint32_t kIpv4 = 1u << 0;
inline constexpr uint32_t kTcpv4 = 1u << 1;
inline constexpr uint32_t kUdpv4 = 1u << 2;
}  // namespace rss_hash

// Control queue classes, commands and acks (section 5.1.6.5).
namespace net_ctrl {
inline constexpr uint8_t kClassMq = 4;
inline constexpr uint8_t kMqVqPairsSet = 0;
inline constexpr uint8_t kMqRssConfig = 1;
inline constexpr uint8_t kOk = 0;
inline constexpr uint8_t kErr = 1;
}  // namespace net_ctrl

// One queue pair's rings.
struct NetPairRings {
    DmaSpan rx_ring;  // >= Virtqueue::ring_bytes(queue_size), 16-byte aligned
    DmaSpan tx_ring;
};

// What RSS_CONFIG programs (section 5.1.6.5.7.1).
struct RssSettings {
    const uint8_t* key = nullptr;     // nullptr: no RSS (VQ_PAIRS_SET only)
    uint8_t key_len = 0;
    const uint16_t* table = nullptr;  // table_len entries, each a 0-based pair (core) < pairs
    uint16_t table_len = 0;           // a power of two
    uint32_t hash_types = rss_hash::kTcpv4 | rss_hash::kUdpv4;
};

class NetMultiQueue {
public:
    static constexpr uint16_t kMaxPairs = 16;
    static constexpr uint16_t kControlQueueSize = 8;
    static constexpr uint32_t kControlBufferBytes = 512;  // one command (RSS: up to 307 bytes) + ack
    static constexpr uint32_t control_ring_bytes() { return Virtqueue::ring_bytes(kControlQueueSize); }

    struct Config {
        uint16_t pairs = 1;                   // wanted, 1..kMaxPairs; 1 = single queue as today
        NetDevice* const* devices = nullptr;  // devices[k] (inert) drives pair k, 1 <= k < pairs
        const NetPairRings* rings = nullptr;  // rings[k] for 1 <= k < pairs ([0] unused)
        DmaSpan control_ring;                 // >= control_ring_bytes(), 16-byte aligned
        DmaSpan control_buffer;               // >= kControlBufferBytes
        RssSettings rss;
        // Without RSS the device would spread flows its own way: by default
        // stay on one pair then (software steering); true accepts
        // VQ_PAIRS_SET alone (each core must then cope with any flow).
        bool allow_without_rss = false;
    };

    explicit NetMultiQueue(const Config& config) : m_config(config) {}
    NetMultiQueue(const NetMultiQueue&) = delete;
    NetMultiQueue& operator=(const NetMultiQueue&) = delete;

    // After NetDevice::init(): pairs the device uses (1 = only pair 0).
    uint16_t active_pairs() const { return m_active; }
    bool rss_enabled() const { return m_rss; }
    // max_virtqueue_pairs from config space (0 if MQ was not negotiated).
    uint16_t device_max_pairs() const { return m_device_max; }
    // Ok if the pairs asked for are active (with RSS if asked); else why not:
    // Unsupported (a feature missing), OutOfRange (too few pairs offered),
    // InvalidArgument (the config or RSS settings do not fit the device),
    // IoError (the device refused a command), TimedOut (it never answered).
    Error status() const { return m_status; }
    // A short sentence for the console: what was refused or missing.
    const char* status_text() const { return m_status_text; }
    // The bytes of the last command (class, command, data), for tests.
    uint64_t commands_sent() const { return m_commands; }

    // Used by NetDevice::init() (net.cc): the features to ask for, the
    // queues to set up before DRIVER_OK, the commands to send after it.
    uint64_t wanted_features() const;
    Result<void> setup_queues(NetDevice& primary, uint16_t queue_size);
    void activate();
    // Used by NetDevice::restart() of pair 0 (recovery.cc), after a reset:
    // release_pairs() makes every other pair inert again (Busy, changing
    // nothing, while one still holds a buffer) and remembers what was
    // active; check_restored() after the bring-up: Unsupported unless the
    // same pairs (and RSS, if it was on) are active again.
    Result<void> release_pairs();
    Result<void> check_restored() const;

private:
    Result<void> command(uint8_t cls, uint8_t cmd, const uint8_t* data, uint32_t len);
    Result<void> check_rss_fits() const;
    uint32_t build_rss_config(uint8_t* out) const;
    void fall_back(Error e, const char* why);

    Config m_config;
    MmioTransport* m_transport = nullptr;
    Virtqueue m_control;
    uint16_t m_pairs = 1;  // pairs set up (what activate() asks for)
    uint16_t m_attached = 1;  // pairs with a NetDevice attached (pair 0 included)
    uint16_t m_active_before = 1;  // for check_restored()
    bool m_rss_before = false;
    uint16_t m_active = 1;
    uint16_t m_device_max = 0;
    bool m_rss = false;
    bool m_has_control = false;
    Error m_status = Error::Ok;
    const char* m_status_text = "single queue";
    uint64_t m_commands = 0;
};

}  // namespace ringlet::virtio
