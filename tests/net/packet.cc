#include "tests/net/packet.h"

#include <string.h>

namespace ringlet::net::test {

namespace {

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
void put_ip(Bytes& b, uint32_t net_order) {
    uint8_t a[4];
    memcpy(a, &net_order, 4);
    b.insert(b.end(), a, a + 4);
}
void put_mac(Bytes& b, MacAddress m) { b.insert(b.end(), m.bytes, m.bytes + 6); }
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return static_cast<uint32_t>(get16(p)) << 16 | get16(p + 2); }
uint32_t get_ip(const uint8_t* p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
MacAddress get_mac(const uint8_t* p) {
    MacAddress m;
    memcpy(m.bytes, p, 6);
    return m;
}

// The checksum over the IPv4 pseudo header and a transport segment.
uint16_t l4_checksum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t* seg, size_t len) {
    Bytes pseudo;
    put_ip(pseudo, src);
    put_ip(pseudo, dst);
    pseudo.push_back(0);
    pseudo.push_back(proto);
    put16(pseudo, static_cast<uint16_t>(len));
    uint32_t sum = 0;
    for (size_t i = 0; i < pseudo.size(); i += 2) sum += get16(&pseudo[i]);
    return inet_checksum(seg, len, sum);
}

}  // namespace

uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t sum) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += get16(data + i);
    if (len & 1) sum += static_cast<uint32_t>(data[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

Bytes ethernet(MacAddress dst, MacAddress src, uint16_t type, const Bytes& payload) {
    Bytes b;
    put_mac(b, dst);
    put_mac(b, src);
    put16(b, type);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes arp(uint16_t op, MacAddress sha, uint32_t spa, MacAddress tha, uint32_t tpa) {
    Bytes b;
    put16(b, 1);       // Ethernet
    put16(b, 0x0800);  // IPv4
    b.push_back(6);
    b.push_back(4);
    put16(b, op);
    put_mac(b, sha);
    put_ip(b, spa);
    put_mac(b, tha);
    put_ip(b, tpa);
    return b;
}

Bytes ipv4_packet(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& payload, uint16_t id) {
    Bytes b;
    b.push_back(0x45);
    b.push_back(0);
    put16(b, static_cast<uint16_t>(20 + payload.size()));
    put16(b, id);
    put16(b, 0x4000);  // DF
    b.push_back(64);
    b.push_back(proto);
    put16(b, 0);
    put_ip(b, src);
    put_ip(b, dst);
    const uint16_t c = inet_checksum(b.data(), 20);
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload) {
    Bytes b;
    b.push_back(type);
    b.push_back(0);
    put16(b, 0);
    put16(b, id);
    put16(b, seq);
    b.insert(b.end(), payload.begin(), payload.end());
    const uint16_t c = inet_checksum(b.data(), b.size());
    b[2] = static_cast<uint8_t>(c >> 8);
    b[3] = static_cast<uint8_t>(c);
    return b;
}

Bytes udp_segment(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const Bytes& payload) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, static_cast<uint16_t>(8 + payload.size()));
    put16(b, 0);
    b.insert(b.end(), payload.begin(), payload.end());
    uint16_t c = l4_checksum(src, dst, kProtoUdp, b.data(), b.size());
    if (c == 0) c = 0xffff;
    b[6] = static_cast<uint8_t>(c >> 8);
    b[7] = static_cast<uint8_t>(c);
    return b;
}

Bytes tcp_segment(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, uint16_t window, const Bytes& payload) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put32(b, seq);
    put32(b, ack);
    b.push_back(5 << 4);
    b.push_back(flags);
    put16(b, window);
    put16(b, 0);
    put16(b, 0);
    b.insert(b.end(), payload.begin(), payload.end());
    const uint16_t c = l4_checksum(src, dst, kProtoTcp, b.data(), b.size());
    b[16] = static_cast<uint8_t>(c >> 8);
    b[17] = static_cast<uint8_t>(c);
    return b;
}

Parsed parse(const Bytes& f) {
    Parsed p;
    if (f.size() < 14) return p;
    p.ok = true;
    p.dst = get_mac(&f[0]);
    p.src = get_mac(&f[6]);
    p.type = get16(&f[12]);
    const uint8_t* l3 = f.data() + 14;
    const size_t l3len = f.size() - 14;
    if (p.type == kEthArp && l3len >= 28) {
        p.arp_op = get16(l3 + 6);
        p.arp_sha = get_mac(l3 + 8);
        p.arp_spa = get_ip(l3 + 14);
        p.arp_tha = get_mac(l3 + 18);
        p.arp_tpa = get_ip(l3 + 24);
        return p;
    }
    if (p.type != kEthIpv4 || l3len < 20) return p;
    const size_t ihl = (l3[0] & 0x0f) * 4u;
    p.ip_total = get16(l3 + 2);
    if ((l3[0] >> 4) != 4 || ihl < 20 || p.ip_total < ihl || p.ip_total > l3len) return p;
    p.ip = true;
    p.ip_checksum_ok = inet_checksum(l3, ihl) == 0;
    p.ip_flags_frag = get16(l3 + 6);
    p.ttl = l3[8];
    p.proto = l3[9];
    p.ip_src = get_ip(l3 + 12);
    p.ip_dst = get_ip(l3 + 16);
    const uint8_t* l4 = l3 + ihl;
    const size_t l4len = p.ip_total - ihl;
    if (p.proto == kProtoUdp && l4len >= 8) {
        p.sport = get16(l4);
        p.dport = get16(l4 + 2);
        const uint16_t ulen = get16(l4 + 4);
        if (ulen < 8 || ulen > l4len) return p;
        p.l4_checksum_ok = get16(l4 + 6) == 0 || l4_checksum(p.ip_src, p.ip_dst, kProtoUdp, l4, ulen) == 0;
        p.payload.assign(l4 + 8, l4 + ulen);
    } else if (p.proto == kProtoTcp && l4len >= 20) {
        p.sport = get16(l4);
        p.dport = get16(l4 + 2);
        p.seq = get32(l4 + 4);
        p.ack = get32(l4 + 8);
        const size_t off = (l4[12] >> 4) * 4u;
        p.flags = l4[13];
        p.window = get16(l4 + 14);
        if (off < 20 || off > l4len) return p;
        p.l4_checksum_ok = l4_checksum(p.ip_src, p.ip_dst, kProtoTcp, l4, l4len) == 0;
        p.payload.assign(l4 + off, l4 + l4len);
    } else if (p.proto == kProtoIcmp && l4len >= 8) {
        p.icmp_type = l4[0];
        p.icmp_id = get16(l4 + 4);
        p.icmp_seq = get16(l4 + 6);
        p.l4_checksum_ok = inet_checksum(l4, l4len) == 0;
        p.payload.assign(l4 + 8, l4 + l4len);
    }
    return p;
}

}  // namespace ringlet::net::test
