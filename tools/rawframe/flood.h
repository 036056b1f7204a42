// Floods: remote input the guest's network stack must bound (issue 15 item
// 5), as frames for rawframe's sender.
//   - a SYN flood: connection requests to the TCP listener from sources that
//     never answer (spoofed addresses in the sender's /24), each one a
//     half-open connection on the guest until it is evicted or times out;
//   - an out-of-order flood: 1-byte segments at every other sequence number
//     past a one-byte gap, inside an established connection's window, each
//     of which would wait in the guest's out-of-order queue in a DMA buffer
//     of its own.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <span>
#include <vector>

#include "tools/rawframe/hostile.h"

namespace ringlet::rawframe {

// `count` SYNs to t.tcp_port from 10.0.2.100..199-style addresses (host
// numbers 100..199 of the source's /24) and ports 20000.., with sequence
// numbers from `seed`.
std::vector<HostileFrame> syn_flood(const Target& t, size_t count, uint64_t seed);

// Where the guest's side of a connection stands: the next sequence number it
// sends (its snd_nxt) and the one it expects (rcv_nxt).
struct GuestSequence {
    uint32_t snd_nxt = 0;
    uint32_t rcv_nxt = 0;
};

// `count` out-of-order segments into the connection from host port
// `host_port` to t.tcp_port: 1 byte each at rcv_nxt + 2, + 4, ... (cycling
// within the first 8000 bytes of the window), acknowledging snd_nxt.
std::vector<HostileFrame> ooseq_flood(const Target& t, uint16_t host_port, const GuestSequence& at, size_t count);

// A segment that makes the guest show its sequence numbers: 1 byte far
// outside the window of that connection, which a TCP answers with an ACK
// (RFC 793 section 3.9) carrying its snd_nxt and rcv_nxt.
Frame sequence_probe(const Target& t, uint16_t host_port);

// If `frame` is a TCP segment from the guest's t.tcp_port to the host's
// `host_port` (addresses as in t), its seq and ack as a GuestSequence.
bool parse_guest_ack(std::span<const uint8_t> frame, const Target& t, uint16_t host_port, GuestSequence* out);

}  // namespace ringlet::rawframe
