// Hostile: the deterministic set of malformed and unexpected frames rawframe
// sends at a guest. Each named frame breaks one rule (its name says which);
// the mutations are seeded random damage to valid UDP and TCP frames, half
// of them with checksums repaired so they reach the parsers behind the
// checksum checks.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "tools/rawframe/frame.h"

namespace ringlet::rawframe {

struct HostileFrame {
    std::string name;
    Frame bytes;
};

struct Target {
    Endpoints ep;             // host -> guest
    uint16_t udp_port = 5555; // the guest's UDP echo port
    uint16_t tcp_port = 5555; // the guest's TCP listener
    uint16_t live_port = 0;   // host port of an established connection to tcp_port (0: none)
};

// Host ports the hostile frames come from; the live connection must not use
// one of them.
inline constexpr uint16_t kHostileUdpPort = 40000;
inline constexpr uint16_t kHostileTcpPort = 40001;
inline constexpr uint16_t kClosedPort = 9;  // no guest listener

// The named frames, always in the same order with the same bytes. With
// `t.live_port` set, segments aimed at that connection with sequence numbers
// the guest never offered (RFC 793 section 3.3 / RFC 5961: dropped or
// answered by an ACK, never accepted) are included.
std::vector<HostileFrame> named_frames(const Target& t);

// `count` seeded mutations of valid UDP and TCP frames for `t`; the same
// seed gives the same frames.
std::vector<HostileFrame> mutated_frames(const Target& t, uint64_t seed, size_t count);

// A valid UDP datagram to the echo port and a valid TCP segment (ACK for no
// connection): the bases the mutations start from.
Frame valid_udp(const Target& t);
Frame valid_tcp(const Target& t);

}  // namespace ringlet::rawframe
