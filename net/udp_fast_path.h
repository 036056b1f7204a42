// The UDP fast path: plain IPv4/UDP datagrams between a bound UDP queue and
// the NIC without going through lwIP - the exokernel's point that a libOS
// may specialise its own data path (IX does the same for its flows).
//
// RX: Netif::receive() parses each frame with parse_udp_frame(); a
// well-formed unicast datagram to one of our addresses whose port a queue
// has bound goes straight to that queue, still in its RX buffer. TX: a
// datagram whose buffer has the headroom and whose next hop lwIP's ARP
// table knows gets its headers written in place by write_udp_headers() and
// goes to the NIC as one descriptor. Everything else - fragments, options,
// broadcasts, bad checksums, an unresolved neighbour, any frame that is not
// exactly this - takes lwIP's path, which stays the authority for ARP,
// ICMP, TCP and every error case (and counts what it drops).
// Pure functions over bytes: host-tested on their own.
#pragma once

#include <stdint.h>

#include "net/netif.h"

namespace ringlet::net {

// Ethernet II + IPv4 without options + UDP.
inline constexpr uint32_t kUdpHeaders = 14 + 20 + 8;

// A datagram parse_udp_frame() accepted. Addresses and ports in network
// byte order (as sockaddr_in holds them).
struct UdpFrame {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint32_t payload_off;  // from the frame's first byte
    uint32_t payload_len;
};

// Whether frame[0, len) is an Ethernet II IPv4 datagram without options,
// not fragmented, with a right header checksum and consistent lengths,
// carrying UDP with a consistent length and a right checksum (or none, or
// one the NIC verified: `l4_verified`), to a unicast address. Fills *out.
bool parse_udp_frame(const uint8_t* frame, uint32_t len, bool l4_verified, UdpFrame* out);

// Where Netif hands datagrams parse_udp_frame() accepted (the backend's
// table of bound UDP queues). Takes over the reference to b and returns
// true, or returns false and the frame goes to lwIP after all.
class UdpFastSink {
public:
    // The frame starts at b->data() + frame_off.
    virtual bool deliver_udp(mem::Buffer* b, uint32_t frame_off, const UdpFrame& f) = 0;

protected:
    ~UdpFastSink() = default;
};

// What write_udp_headers() needs to know about the datagram.
struct UdpHeaderSpec {
    MacAddress src_mac;
    const uint8_t* dst_mac;  // 6 bytes
    uint32_t src_ip, dst_ip;      // network order
    uint16_t src_port, dst_port;  // network order
    uint16_t ip_id;
    uint8_t ttl;
    // Fill in the UDP checksum in software; else leave the pseudo-header
    // sum for a NIC that finishes it (checksum offload).
    bool software_checksum;
};

// Writes the Ethernet, IPv4 and UDP headers into the kUdpHeaders bytes at
// `frame`, in front of the payload_len bytes of payload that follow them.
// Precondition: payload_len <= 1500 - 28.
void write_udp_headers(uint8_t* frame, uint32_t payload_len, const UdpHeaderSpec& spec);

// The headers of every datagram of one flow (same addresses, ports, TTL and
// checksum mode), built once: what write_udp_headers() writes with the
// lengths, the IPv4 id and both checksums left 0, and the sums of the fixed
// words, so a datagram costs a copy and five fields.
struct UdpHeaderTemplate {
    alignas(8) uint8_t bytes[kUdpHeaders + 6];
    uint32_t ip_sum;      // the IPv4 header's fixed words
    uint32_t pseudo_sum;  // addresses and protocol (the pseudo-header without its length)
    uint32_t ports_sum;   // the UDP header's ports
    bool software_checksum;
};
void make_udp_template(const UdpHeaderSpec& spec, UdpHeaderTemplate* out);

// write_udp_headers() of the template's flow with this datagram's length
// and IPv4 id; the same bytes. Precondition: frame is 2-aligned (false and
// nothing written otherwise), payload_len <= 1500 - 28.
bool write_udp_headers(uint8_t* frame, uint32_t payload_len, uint16_t ip_id, const UdpHeaderTemplate& t);

}  // namespace ringlet::net
