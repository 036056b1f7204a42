// FlowSteering: which core a received frame belongs to - the one function
// both the NIC (virtio-net RSS, programmed with this object's key and
// table) and the libOS's software steering (one core owns a single-queue
// device and hands frames to the others) use, so a flow lands on the same
// core whatever the NIC can do.
//
// The hash is the Toeplitz hash of Microsoft RSS, which virtio-net's RSS
// adopts (virtio 1.2 section 5.1.6.4.3): the input is the received packet's
// IPv4 source address, destination address, source port and destination
// port, each in network byte order, 12 bytes; the hash's low bits index a
// power-of-two indirection table whose entries are cores (= receive queue
// pairs: core k owns receiveq k+1). The hash types steered are TCPv4 and
// UDPv4 only. Everything else - non-IPv4 frames (ARP), IPv4 fragments,
// other protocols (ICMP), malformed or short frames - goes to core 0: the
// device does the same when the table is programmed with
// unclassified_queue 0 and no IPv4-only hash type, so the two agree.
//
// Not symmetric: a flow's two directions hash differently. Only the RX
// direction matters to a server (the core that receives a flow's frames
// owns its connection); a core that opens a connection must choose a local
// port for which core_for_rx_flow(remote -> local) is itself, so the
// replies come back to it (net/local_ports.h does).
//
// Freestanding, no heap: the object (~12.5 KiB: a per-byte lookup table,
// so hashing 12 bytes costs 12 loads, not 96 conditional XORs) lives in
// static or per-core storage; two-phase, as NetDevice.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::net {

// A key of 40 bytes, as virtio-net RSS and Microsoft RSS use for IPv4/IPv6.
inline constexpr uint32_t kRssKeyBytes = 40;
// Indirection table entries: a power of two, and QEMU 7.2's limit (128).
inline constexpr uint32_t kSteeringTableEntries = 128;
// Bytes of hash input for TCPv4/UDPv4: two addresses and two ports.
inline constexpr uint32_t kFlowTupleBytes = 12;
// Cores a table may spread over.
inline constexpr uint16_t kMaxSteeringCores = 64;

// The default key: the one of Microsoft's RSS verification suite (a public
// value many drivers use), so published test vectors check the hash.
extern const uint8_t kDefaultRssKey[kRssKeyBytes];

// The Toeplitz hash of data[0, len) under key[0, key_len), bit by bit (the
// definition). key_len must be >= len + 4; else returns 0.
uint32_t toeplitz_hash(const uint8_t* key, size_t key_len, const uint8_t* data, size_t len);

// A TCP/UDP over IPv4 flow as a received frame carries it: src is the
// sender. Addresses and ports in host byte order (192.0.2.1 = 0xc0000201).
struct FlowTuple {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
};

class FlowSteering {
public:
    // One core, the default key: every frame to core 0.
    FlowSteering();
    FlowSteering(const FlowSteering&) = delete;
    FlowSteering& operator=(const FlowSteering&) = delete;

    // Spreads the table over `cores` (entry i = i % cores) and hashes with
    // `key` (kRssKeyBytes bytes; nullptr = kDefaultRssKey). InvalidArgument
    // if cores is 0 or above kMaxSteeringCores.
    Result<void> init(uint16_t cores, const uint8_t* key = nullptr);

    uint16_t cores() const { return m_cores; }
    // What to program into the device: the key, and the table (entries are
    // cores = 0-based receive queue pairs, as virtio's indirection_table).
    const uint8_t* key() const { return m_key; }
    const uint16_t* table() const { return m_table; }

    // The Toeplitz hash of the flow (the device's hash for the frame).
    uint32_t hash(const FlowTuple& flow) const;
    uint16_t core_for_hash(uint32_t hash) const { return m_table[hash & (kSteeringTableEntries - 1)]; }
    // The destination port's share of the hash: Toeplitz is linear over
    // XOR, so hash(flow) == hash(flow with dst_port 0) ^ dst_port_hash(dst_port)
    // (LocalPorts hashes the rest of a flow once and tries ports cheaply).
    uint32_t dst_port_hash(uint16_t port) const {
        return m_lut[kFlowTupleBytes - 2][port >> 8] ^ m_lut[kFlowTupleBytes - 1][port & 0xff];
    }
    // The core the frames of `flow` (as received) land on.
    uint16_t core_for_flow(const FlowTuple& flow) const { return core_for_hash(hash(flow)); }
    // The core that receives what the remote end sends to local:port: for a
    // core opening a connection (pick a local port that maps to itself).
    uint16_t core_for_rx_flow(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip,
                              uint16_t remote_port) const {
        return core_for_flow(FlowTuple{remote_ip, local_ip, remote_port, local_port});
    }

    // The core a received Ethernet frame frame[0, len) belongs to (see the
    // header comment); reads at most the Ethernet, IPv4 and 4 bytes of the
    // L4 header, and never past len.
    uint16_t core_for_frame(const uint8_t* frame, size_t len) const;

    // Parses a received frame's flow: false for anything that is not an
    // unfragmented TCP or UDP over IPv4 whose ports lie within len.
    static bool parse_flow(const uint8_t* frame, size_t len, FlowTuple* out);

private:
    // The hash of the 8 address bytes and 4 port bytes in network order.
    uint32_t hash_wire(const uint8_t* addrs, const uint8_t* ports) const;

    uint8_t m_key[kRssKeyBytes];
    uint16_t m_cores = 1;
    uint16_t m_table[kSteeringTableEntries];
    // m_lut[i][v]: the hash contribution of value v in input byte i.
    uint32_t m_lut[kFlowTupleBytes][256];
};

}  // namespace ringlet::net
