// FakeNic: a NicPort for host tests. Frames the stack transmits are
// flattened and recorded (or carried over a FakeWire to another FakeNic);
// frames the test injects are copied into DMA buffers behind the same
// headroom virtio-net uses and delivered on the next poll. It also checks the
// NicPort contract: headroom present, segments inside their buffers, every
// reference dropped exactly once.
#pragma once

#include <stdint.h>

#include <deque>

#include "libos/mem/dma_heap.h"
#include "net/netif.h"
#include "tests/net/packet.h"

namespace ringlet::net::test {

class FakeNic final : public NicPort {
public:
    static constexpr uint32_t kHeadroom = 12;  // as virtio-net's header

    explicit FakeNic(MacAddress mac) : m_mac(mac) {}
    ~FakeNic();

    MacAddress mac() const override { return m_mac; }
    uint32_t tx_headroom() const override { return kHeadroom; }
    NicOffloads offloads() const override { return offload; }
    Result<void> start(mem::DmaHeap& heap) override {
        m_heap = &heap;
        return {};
    }
    // With a checksum request the "device" fills the checksum in as
    // virtio-net does: over [start, end), on top of what the field holds.
    Result<void> transmit(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum) override;
    uint32_t poll(uint32_t max, FrameSink& sink) override;
    LocalPorts* local_ports() override { return ports; }

    // Queues `frame` for delivery on the next poll and wakes the poll task
    // (what the device's interrupt does on the target).
    void inject(const Bytes& frame);
    // Carries every transmitted frame to `peer` (a wire); nullptr cuts it.
    void connect(FakeNic* peer) { m_peer = peer; }

    // Recorded transmissions (when record is true).
    std::deque<Bytes> sent;
    bool record = true;
    // Refuse transmissions (a full TX ring).
    bool fail_tx = false;
    // The chooser of local ports of a core sharing this NIC (nullptr: one core).
    LocalPorts* ports = nullptr;
    // What the NIC offers the stack; set before boot().
    NicOffloads offload;
    // Received frames are handed up as checksum-verified (with offload.rx_checksum).
    bool mark_rx_verified = false;
    uint64_t csum_requests = 0;
    ChecksumRequest last_csum;
    uint16_t last_csum_field = 0;  // the field as the stack left it (the pseudo-header sum)
    uint64_t wire_checksum_errors = 0;  // TCP/UDP frames sent with a wrong checksum
    // Drop every n-th frame carried over the wire (0: none).
    uint32_t drop_every = 0;
    // Contract checks and counters.
    uint32_t contract_violations = 0;
    uint64_t frames_out = 0, frames_dropped = 0;
    uint32_t last_segments = 0;
    mem::Buffer* last_buffers[kMaxTxSegments] = {};
    uint32_t last_offsets[kMaxTxSegments] = {};
    // Keep transmitted frames "in flight" (references held, bytes not yet
    // read) until release_held(): what a slow device does.
    bool hold_tx = false;
    void release_held();

private:
    struct Held {
        TxSegment segs[kMaxTxSegments];
        uint32_t n;
        bool has_csum;
        ChecksumRequest csum;
    };
    std::deque<Held> m_held;
    Result<void> send(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum);

    struct Rx {
        mem::Buffer* buf;
        uint32_t len;
    };
    MacAddress m_mac;
    mem::DmaHeap* m_heap = nullptr;
    FakeNic* m_peer = nullptr;
    std::deque<Rx> m_rx;
};

}  // namespace ringlet::net::test
