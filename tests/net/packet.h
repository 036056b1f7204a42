// A test-side packet crafter and parser: Ethernet, ARP, IPv4, ICMP echo, UDP
// and TCP, with the checksums computed (crafting) and verified (parsing)
// independently of lwIP. Addresses are in network byte order, as in
// NetConfig and sockaddr_in.
#pragma once

#include <stdint.h>

#include <vector>

#include "net/netif.h"

namespace ringlet::net::test {

using Bytes = std::vector<uint8_t>;

inline constexpr uint16_t kEthIpv4 = 0x0800, kEthArp = 0x0806;
inline constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

// The Internet checksum (RFC 1071) of data, continuing from `sum`.
uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t sum = 0);

Bytes ethernet(MacAddress dst, MacAddress src, uint16_t type, const Bytes& payload);
Bytes arp(uint16_t op, MacAddress sha, uint32_t spa, MacAddress tha, uint32_t tpa);
// An IPv4 header (20 bytes, checksum filled) + payload.
Bytes ipv4_packet(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& payload, uint16_t id = 1);
Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload);
Bytes udp_segment(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const Bytes& payload);
Bytes tcp_segment(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, uint16_t window, const Bytes& payload);

// What parse() found; fields of layers not present stay zero.
struct Parsed {
    bool ok = false;  // Ethernet header present
    MacAddress dst{}, src{};
    uint16_t type = 0;
    // ARP
    uint16_t arp_op = 0;
    MacAddress arp_sha{}, arp_tha{};
    uint32_t arp_spa = 0, arp_tpa = 0;
    // IPv4
    bool ip = false, ip_checksum_ok = false;
    uint8_t proto = 0, ttl = 0;
    uint16_t ip_total = 0, ip_flags_frag = 0;
    uint32_t ip_src = 0, ip_dst = 0;
    // UDP / TCP / ICMP
    bool l4_checksum_ok = false;
    uint16_t sport = 0, dport = 0, window = 0;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint8_t icmp_type = 0;
    uint16_t icmp_id = 0, icmp_seq = 0;
    Bytes payload;
};
Parsed parse(const Bytes& frame);

}  // namespace ringlet::net::test
