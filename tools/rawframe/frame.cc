// Frame builders: every length and checksum is computed from the bytes that
// end up in the frame, so the tests can compare them with independent values.
#include "tools/rawframe/frame.h"

#include <algorithm>

namespace ringlet::rawframe {

uint32_t sum16(std::span<const uint8_t> bytes, uint32_t sum) {
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
    if (i < bytes.size()) sum += static_cast<uint32_t>(bytes[i] << 8);
    return sum;
}

uint16_t fold_checksum(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t ipv4_checksum(std::span<const uint8_t> header) {
    // The checksum field (bytes 10-11) counts as zero: sum around it.
    uint32_t sum = sum16(header.subspan(0, 10));
    if (header.size() > 12) sum = sum16(header.subspan(12), sum);
    return fold_checksum(sum);
}

uint16_t l4_checksum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, std::span<const uint8_t> segment) {
    uint32_t sum = (src_ip >> 16) + (src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff);
    sum += proto;
    sum += static_cast<uint32_t>(segment.size());
    const size_t field = proto == kProtoUdp ? 6 : 16;
    if (segment.size() < field + 2) {
        sum = sum16(segment, sum);
    } else {
        sum = sum16(segment.subspan(0, field), sum);
        sum = sum16(segment.subspan(field + 2), sum);
    }
    const uint16_t c = fold_checksum(sum);
    return proto == kProtoUdp && c == 0 ? 0xffff : c;
}

void put16(std::span<uint8_t> b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

void put32(std::span<uint8_t> b, size_t at, uint32_t v) {
    put16(b, at, static_cast<uint16_t>(v >> 16));
    put16(b, at + 2, static_cast<uint16_t>(v));
}

uint16_t get16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

uint32_t get32(std::span<const uint8_t> b, size_t at) {
    return static_cast<uint32_t>(get16(b, at)) << 16 | get16(b, at + 2);
}

Frame ethernet(const Endpoints& ep, uint16_t ethertype, std::span<const uint8_t> payload) {
    Frame f(kEthHeader);
    std::copy(ep.dst_mac.begin(), ep.dst_mac.end(), f.begin());
    std::copy(ep.src_mac.begin(), ep.src_mac.end(), f.begin() + 6);
    put16(f, 12, ethertype);
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

Frame ipv4_frame(const Endpoints& ep, uint8_t proto, std::span<const uint8_t> payload, const Ipv4Fields& fields) {
    const size_t hlen = kIpv4Header + fields.options.size();
    std::vector<uint8_t> p(hlen);
    p[0] = static_cast<uint8_t>(0x40 | (hlen / 4));
    put16(p, 2, static_cast<uint16_t>(hlen + payload.size()));
    put16(p, 4, fields.id);
    put16(p, 6, fields.frag);
    p[8] = fields.ttl;
    p[9] = proto;
    put32(p, 12, ep.src_ip);
    put32(p, 16, ep.dst_ip);
    std::copy(fields.options.begin(), fields.options.end(), p.begin() + kIpv4Header);
    put16(p, 10, ipv4_checksum(p));
    p.insert(p.end(), payload.begin(), payload.end());
    return ethernet(ep, kEtherIpv4, p);
}

Frame udp_frame(const Endpoints& ep, uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload,
                const Ipv4Fields& f) {
    std::vector<uint8_t> u(kUdpHeader);
    put16(u, 0, src_port);
    put16(u, 2, dst_port);
    put16(u, 4, static_cast<uint16_t>(kUdpHeader + payload.size()));
    u.insert(u.end(), payload.begin(), payload.end());
    put16(u, 6, l4_checksum(ep.src_ip, ep.dst_ip, kProtoUdp, u));
    return ipv4_frame(ep, kProtoUdp, u, f);
}

Frame tcp_frame(const Endpoints& ep, const TcpFields& t, const Ipv4Fields& f) {
    const size_t hlen = kTcpHeader + t.options.size();
    std::vector<uint8_t> s(hlen);
    put16(s, 0, t.src_port);
    put16(s, 2, t.dst_port);
    put32(s, 4, t.seq);
    put32(s, 8, t.ack);
    s[12] = static_cast<uint8_t>((hlen / 4) << 4);
    s[13] = t.flags;
    put16(s, 14, t.window);
    put16(s, 18, t.urgent);
    std::copy(t.options.begin(), t.options.end(), s.begin() + kTcpHeader);
    s.insert(s.end(), t.payload.begin(), t.payload.end());
    put16(s, 16, l4_checksum(ep.src_ip, ep.dst_ip, kProtoTcp, s));
    return ipv4_frame(ep, kProtoTcp, s, f);
}

Frame icmp_frame(const Endpoints& ep, uint8_t type, uint8_t code, std::span<const uint8_t> rest) {
    std::vector<uint8_t> m{type, code, 0, 0};
    m.insert(m.end(), rest.begin(), rest.end());
    put16(m, 2, fold_checksum(sum16(m)));
    return ipv4_frame(ep, kProtoIcmp, m);
}

Frame arp_request(const Endpoints& ep, uint32_t target_ip) {
    std::vector<uint8_t> a(28);
    put16(a, 0, 1);           // hardware: Ethernet
    put16(a, 2, kEtherIpv4);  // protocol: IPv4
    a[4] = 6;
    a[5] = 4;
    put16(a, 6, 1);  // request
    std::copy(ep.src_mac.begin(), ep.src_mac.end(), a.begin() + 8);
    put32(a, 14, ep.src_ip);
    put32(a, 24, target_ip);
    return ethernet(ep, kEtherArp, a);
}

Layout parse_layout(std::span<const uint8_t> frame) {
    Layout l;
    if (frame.size() < kEthHeader + kIpv4Header || get16(frame, 12) != kEtherIpv4) return l;
    const size_t ihl = static_cast<size_t>(frame[kEthHeader] & 0x0f) * 4;
    if (ihl < kIpv4Header || kEthHeader + ihl > frame.size()) return l;
    l.valid = true;
    l.l4 = kEthHeader + ihl;
    l.l4_end = std::min(frame.size(), kEthHeader + get16(frame, kEthHeader + 2));
    l.l4_end = std::max(l.l4_end, l.l4);
    l.proto = frame[kEthHeader + 9];
    return l;
}

bool fix_checksums(Frame& frame) {
    const Layout l = parse_layout(frame);
    if (!l.valid) return false;
    std::span<uint8_t> header(frame.data() + l.ip, l.l4 - l.ip);
    put16(header, 10, ipv4_checksum(header));
    const bool fragment = (get16(frame, l.ip + 6) & 0x3fff) != 0;
    std::span<uint8_t> seg(frame.data() + l.l4, l.l4_end - l.l4);
    const uint32_t src = get32(frame, l.ip + 12), dst = get32(frame, l.ip + 16);
    if (fragment) return true;
    if (l.proto == kProtoUdp && seg.size() >= kUdpHeader) put16(seg, 6, l4_checksum(src, dst, kProtoUdp, seg));
    if (l.proto == kProtoTcp && seg.size() >= kTcpHeader) put16(seg, 16, l4_checksum(src, dst, kProtoTcp, seg));
    return true;
}

}  // namespace ringlet::rawframe
