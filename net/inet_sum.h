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

// Native-order access for the fast paths' parsers: 16-bit words loaded as
// they lie (2-aligned), which a one's-complement sum may add without byte
// swaps (RFC 1071 section 2), and the helpers around them.
using Half16 [[gnu::may_alias]] = uint16_t;
inline uint16_t ld16(const uint8_t* p) { return *reinterpret_cast<const Half16*>(p); }
inline uint16_t swap16(uint16_t v) { return static_cast<uint16_t>(v << 8 | v >> 8); }
// A 32-bit field kept in network order (an address).
inline uint32_t ld32(const uint8_t* p) { return static_cast<uint32_t>(ld16(p)) | static_cast<uint32_t>(ld16(p + 2)) << 16; }
// A 32-bit sum of 16-bit words folded to 16 bits (two carries at most).
inline uint16_t fold32(uint32_t s) {
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

}  // namespace ringlet::net::inet
