#include "net/udp_fast_path.h"

#include <string.h>

#include "net/checksum.h"

namespace ringlet::net {

namespace {

constexpr uint32_t kEth = 14;
constexpr uint32_t kIp = 20;
constexpr uint8_t kProtoUdp = 17;

// The headers are read and written as native 16-bit words: the one's-
// complement sum does not depend on byte order (RFC 1071 section 2), so
// checksums are summed, checked and stored without byte swaps, and fields
// are compared against constants in network order. That needs a 2-aligned
// copy of the headers: the frame itself when it is (always, on the device's
// buffers), else a local copy.
using Half16 [[gnu::may_alias]] = uint16_t;

inline uint16_t ld16(const uint8_t* p) { return *reinterpret_cast<const Half16*>(p); }
inline void st16(uint8_t* p, uint16_t v) { *reinterpret_cast<Half16*>(p) = v; }
// A network-order 16-bit field as a host value / a host value in network order.
inline uint32_t swap16(uint16_t v) { return static_cast<uint16_t>(v << 8 | v >> 8); }

// The network-order constants as a native load sees them.
constexpr uint16_t kTypeIpv4 = 0x0008;       // 0x0800
constexpr uint16_t kProtoWord = 0x1100;      // the pseudo-header's 0x0011

// Folds a 32-bit sum of 16-bit words to 16 bits.
inline uint16_t fold32(uint32_t s) {
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

// The 20-byte IPv4 header at ip (2-aligned), summed as native words.
inline uint32_t ip_header_sum(const uint8_t* ip) {
    uint32_t s = 0;
#pragma GCC unroll 10
    for (uint32_t i = 0; i < kIp; i += 2) s += ld16(ip + i);
    return s;
}

// The pseudo-header (addresses from ip, protocol, the UDP length field as it
// stands in the header at udp) plus the 8-byte UDP header: native words.
inline uint32_t udp_header_sum(const uint8_t* ip, const uint8_t* udp) {
    return ld16(ip + 12) + ld16(ip + 14) + ld16(ip + 16) + ld16(ip + 18) + kProtoWord + ld16(udp + 4) + ld16(udp) +
           ld16(udp + 2) + ld16(udp + 4) + ld16(udp + 6);
}


}  // namespace

bool parse_udp_frame_odd(const uint8_t* frame, uint32_t len, bool l4_verified, UdpFrame* out) {
    alignas(4) uint8_t copy[kUdpHeaders + 2];
    __builtin_memcpy(copy + 2, frame, kUdpHeaders);
    return udp_parse::headers(copy + 2, frame, len, l4_verified, out);
}

bool parse_udp_frame(const uint8_t* frame, uint32_t len, bool l4_verified, UdpFrame* out) {
    return parse_udp_frame_inline(frame, len, l4_verified, out);
}

bool UdpPorts::add(uint16_t port, uint32_t ip, UdpFastReceiver* r) {
    for (uint32_t i = 0; i < kMax; ++i) {
        if (m_entries[i].port != 0) continue;
        m_entries[i] = Entry{port, ip, r};
        if (i + 1 > m_top) m_top = i + 1;
        return true;
    }
    return false;
}

void UdpPorts::remove(UdpFastReceiver* r) {
    for (Entry& e : m_entries) {
        if (e.receiver == r) e = Entry{};
    }
}

void write_udp_headers(uint8_t* frame, uint32_t payload_len, const UdpHeaderSpec& s) {
    alignas(4) uint8_t copy[kUdpHeaders + 2];
    const bool aligned = (reinterpret_cast<uintptr_t>(frame) & 1) == 0;
    uint8_t* f = aligned ? frame : copy + 2;
    __builtin_memcpy(f, s.dst_mac, 6);
    __builtin_memcpy(f + 6, s.src_mac.bytes, 6);
    st16(f + 12, kTypeIpv4);
    uint8_t* ip = f + kEth;
    const uint32_t udp_len = 8 + payload_len;
    ip[0] = 0x45;
    ip[1] = 0;
    st16(ip + 2, static_cast<uint16_t>(swap16(static_cast<uint16_t>(kIp + udp_len))));
    st16(ip + 4, static_cast<uint16_t>(swap16(s.ip_id)));
    st16(ip + 6, 0);
    ip[8] = s.ttl;
    ip[9] = kProtoUdp;
    st16(ip + 10, 0);
    st16(ip + 12, static_cast<uint16_t>(s.src_ip));
    st16(ip + 14, static_cast<uint16_t>(s.src_ip >> 16));
    st16(ip + 16, static_cast<uint16_t>(s.dst_ip));
    st16(ip + 18, static_cast<uint16_t>(s.dst_ip >> 16));
    st16(ip + 10, static_cast<uint16_t>(~fold32(ip_header_sum(ip))));
    uint8_t* udp = ip + kIp;
    st16(udp, s.src_port);
    st16(udp + 2, s.dst_port);
    st16(udp + 4, static_cast<uint16_t>(swap16(static_cast<uint16_t>(udp_len))));
    st16(udp + 6, 0);
    if (s.software_checksum) {
        const uint32_t sum =
            udp_header_sum(ip, udp) + ringlet_chksum(frame + kUdpHeaders, static_cast<int>(payload_len));
        const uint16_t c = static_cast<uint16_t>(~fold32(sum));
        st16(udp + 6, c == 0 ? 0xffff : c);  // 0 would mean "no checksum"
    } else {
        // Section 5.1.6.2 of virtio: the NIC adds the rest to the pseudo-header
        // sum (addresses, protocol, length; not the UDP header's own words).
        const uint32_t pseudo = ld16(ip + 12) + ld16(ip + 14) + ld16(ip + 16) + ld16(ip + 18) + kProtoWord + ld16(udp + 4);
        st16(udp + 6, fold32(pseudo));
    }
    if (!aligned) __builtin_memcpy(frame, f, kUdpHeaders);
}

void make_udp_template(const UdpHeaderSpec& spec, UdpHeaderTemplate* out) {
    UdpHeaderSpec s = spec;
    s.software_checksum = false;  // no payload to sum; the field is cleared below
    __builtin_memset(out->bytes, 0, sizeof out->bytes);
    write_udp_headers(out->bytes, 0, s);
    uint8_t* ip = out->bytes + kEth;
    uint8_t* udp = ip + kIp;
    // The per-datagram fields: total length, id, header checksum; UDP
    // length and checksum.
    st16(ip + 2, 0);
    st16(ip + 4, 0);
    st16(ip + 10, 0);
    st16(udp + 4, 0);
    st16(udp + 6, 0);
    out->ip_sum = ip_header_sum(ip);
    out->pseudo_sum = ld16(ip + 12) + ld16(ip + 14) + ld16(ip + 16) + ld16(ip + 18) + kProtoWord;
    out->ports_sum = ld16(udp) + ld16(udp + 2);
    out->software_checksum = spec.software_checksum;
    __builtin_memset(out->shifted, 0, sizeof out->shifted);
    __builtin_memcpy(out->shifted + 4, out->bytes, kUdpHeaders);
}

}  // namespace ringlet::net
