// Small pieces of Internet-checksum arithmetic shared by the netif (checksum
// offload requests) and the UDP fast path: big-endian 16-bit loads and
// stores, the RFC 1071 fold, and the IPv4 pseudo-header sum (RFC 768/793).
#pragma once

#include <stdint.h>

namespace ringlet::net::inet {

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline void put_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
// The 16-bit ones' complement sum of big-endian words, folded.
inline uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}
// The pseudo-header sum of a TCP/UDP segment of l4_len bytes whose IPv4
// header starts at `ip`: host order, not folded.
inline uint32_t pseudo_sum(const uint8_t* ip, uint8_t proto, uint32_t l4_len) {
    return be16(ip + 12) + be16(ip + 14) + be16(ip + 16) + be16(ip + 18) + proto + l4_len;
}

}  // namespace ringlet::net::inet
