#include "net/udp_fast_path.h"

#include <string.h>

#include "net/checksum.h"
#include "net/inet_sum.h"

namespace ringlet::net {

namespace {

constexpr uint32_t kEth = 14;
constexpr uint32_t kIp = 20;
constexpr uint8_t kProtoUdp = 17;

using inet::be16;
using inet::fold;
using inet::put_be16;

uint32_t load32(const uint8_t* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

// ringlet_chksum's sum as a host-order 16-bit value (it returns the sum
// laid out in network order in a native uint16_t).
uint32_t sum_of(const void* data, uint32_t len) {
    const uint16_t s = ringlet_chksum(data, static_cast<int>(len));
    return static_cast<uint32_t>(__builtin_bswap16(s));
}
uint32_t pseudo_sum(const uint8_t* ip, uint32_t udp_len) { return inet::pseudo_sum(ip, kProtoUdp, udp_len); }

}  // namespace

bool parse_udp_frame(const uint8_t* f, uint32_t len, bool l4_verified, UdpFrame* out) {
    if (len < kEth + kIp + 8 || be16(f + 12) != 0x0800) return false;
    const uint8_t* ip = f + kEth;
    if (ip[0] != 0x45 || ip[9] != kProtoUdp) return false;  // IPv4, no options, UDP
    const uint32_t total = be16(ip + 2);
    if (total < kIp + 8 || total > len - kEth) return false;  // longer frames: Ethernet padding
    if ((be16(ip + 6) & 0x3fff) != 0) return false;            // MF or an offset: a fragment
    if (fold(sum_of(ip, kIp)) != 0xffff) return false;         // header checksum
    const uint32_t dst = load32(ip + 16);
    const uint8_t first = static_cast<uint8_t>(dst);  // network order: the first octet
    if (first >= 224 || dst == 0xffffffffu || load32(ip + 12) == 0) return false;  // multicast, broadcast
    const uint8_t* udp = ip + kIp;
    const uint32_t udp_len = be16(udp + 4);
    if (udp_len != total - kIp) return false;
    if (be16(udp + 2) == 0) return false;  // port 0
    const uint16_t csum = be16(udp + 6);
    if (csum != 0 && !l4_verified && fold(pseudo_sum(ip, udp_len) + sum_of(udp, udp_len)) != 0xffff) return false;
    out->src_ip = load32(ip + 12);
    out->dst_ip = dst;
    __builtin_memcpy(&out->src_port, udp, 2);
    __builtin_memcpy(&out->dst_port, udp + 2, 2);
    out->payload_off = kEth + kIp + 8;
    out->payload_len = udp_len - 8;
    return true;
}

void write_udp_headers(uint8_t* f, uint32_t payload_len, const UdpHeaderSpec& s) {
    __builtin_memcpy(f, s.dst_mac, 6);
    __builtin_memcpy(f + 6, s.src_mac.bytes, 6);
    put_be16(f + 12, 0x0800);
    uint8_t* ip = f + kEth;
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, static_cast<uint16_t>(kIp + 8 + payload_len));
    put_be16(ip + 4, s.ip_id);
    put_be16(ip + 6, 0);
    ip[8] = s.ttl;
    ip[9] = kProtoUdp;
    put_be16(ip + 10, 0);
    __builtin_memcpy(ip + 12, &s.src_ip, 4);
    __builtin_memcpy(ip + 16, &s.dst_ip, 4);
    put_be16(ip + 10, static_cast<uint16_t>(~fold(sum_of(ip, kIp))));
    uint8_t* udp = ip + kIp;
    const uint32_t udp_len = 8 + payload_len;
    __builtin_memcpy(udp, &s.src_port, 2);
    __builtin_memcpy(udp + 2, &s.dst_port, 2);
    put_be16(udp + 4, static_cast<uint16_t>(udp_len));
    put_be16(udp + 6, 0);
    if (s.software_checksum) {
        uint16_t c = static_cast<uint16_t>(~fold(pseudo_sum(ip, udp_len) + sum_of(udp, udp_len)));
        put_be16(udp + 6, c == 0 ? 0xffff : c);  // 0 would mean "no checksum"
    } else {
        // Section 5.1.6.2 of virtio: the NIC adds the rest to the pseudo-header sum.
        put_be16(udp + 6, fold(pseudo_sum(ip, udp_len)));
    }
}

}  // namespace ringlet::net
