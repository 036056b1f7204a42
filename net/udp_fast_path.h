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

#include "net/checksum.h"
#include "net/inet_sum.h"
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
// The same, inlined into the receive path (Netif::receive).
[[gnu::always_inline]] inline bool parse_udp_frame_inline(const uint8_t* frame, uint32_t len, bool l4_verified,
                                                          UdpFrame* out);
// The same for a frame at an odd address (its headers copied to be read in
// words): out of line, the device's buffers never need it.
[[gnu::cold]] bool parse_udp_frame_odd(const uint8_t* frame, uint32_t len, bool l4_verified, UdpFrame* out);

// A bound UDP queue as the fast path sees it: takes a received payload,
// b->data()[off, off + len), with the reference to b (true), or declines it
// (false: lwIP's path then copies or drops it as it would).
class UdpFastReceiver {
public:
    virtual bool receive_fast(mem::Buffer* b, uint32_t off, uint32_t len, uint32_t src_ip, uint16_t src_port) = 0;

protected:
    ~UdpFastReceiver() = default;
};

// The bound UDP queues the fast path delivers to, by port (the backend's
// table; Netif looks datagrams up in it directly, no call in between).
class UdpPorts {
public:
    static constexpr uint32_t kMax = 64;
    // Datagrams to `port` (network order) on `ip` (0: any of ours) go to r.
    // False when the table is full.
    bool add(uint16_t port, uint32_t ip, UdpFastReceiver* r);
    void remove(UdpFastReceiver* r);
    // The queue bound to port (network order) on ip or on any address, the
    // first one added; nullptr if none (lwIP then answers: ICMP port
    // unreachable).
    UdpFastReceiver* find(uint16_t port, uint32_t ip) const {
        for (const Entry* e = m_entries; e != m_entries + m_top; ++e) {
            if (e->port == port && (e->ip == 0 || e->ip == ip)) return e->receiver;
        }
        return nullptr;
    }

private:
    struct Entry {
        uint16_t port;  // network order; 0: free
        uint32_t ip;
        UdpFastReceiver* receiver;
    };
    Entry m_entries[kMax] = {};
    uint32_t m_top = 0;  // slots at and above are free
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
    // The same 42 bytes from shifted[4] on: a frame 4 bytes past an 8-byte
    // boundary (the device's buffers: the virtio header is 12 bytes) is
    // written with 8-byte loads and stores from here.
    alignas(8) uint8_t shifted[kUdpHeaders + 6];
    uint32_t ip_sum;      // the IPv4 header's fixed words
    uint32_t pseudo_sum;  // addresses and protocol (the pseudo-header without its length)
    uint32_t ports_sum;   // the UDP header's ports
    bool software_checksum;
};
void make_udp_template(const UdpHeaderSpec& spec, UdpHeaderTemplate* out);

// write_udp_headers() of the template's flow with this datagram's length
// and IPv4 id; the same bytes. Precondition: frame is 2-aligned (false and
// nothing written otherwise), payload_len <= 1500 - 28. Inline: the UDP
// queue's send path writes it in place.
[[gnu::always_inline]] inline bool write_udp_headers(uint8_t* frame, uint32_t payload_len, uint16_t ip_id,
                                                     const UdpHeaderTemplate& t);

// --- parse_udp_frame_inline's body ---
namespace udp_parse {

// The network-order constants as a native 16-bit load sees them (headers
// are read as native words: the one's-complement sum does not depend on
// byte order, RFC 1071 section 2).
inline constexpr uint16_t kTypeIpv4 = 0x0008;   // 0x0800
inline constexpr uint16_t kFragMask = 0xff3f;   // 0x3fff: MF and the offset
inline constexpr uint16_t kProtoWord = 0x1100;  // the pseudo-header's 0x0011

// The checks on f, a 2-aligned view of the frame's headers (the frame
// itself, or a copy of them); `frame` is the frame as received, where the
// UDP checksum is summed.
[[gnu::always_inline]] inline bool headers(const uint8_t* f, const uint8_t* frame, uint32_t len, bool l4_verified,
                                           UdpFrame* out) {
    using inet::fold32;
    using inet::ld16;
    using inet::swap16;
    if (ld16(f + 12) != kTypeIpv4) return false;
    const uint8_t* ip = f + 14;
    if (ip[0] != 0x45 || ip[9] != 17) return false;  // IPv4, no options, UDP
    const uint32_t total = swap16(ld16(ip + 2));
    if (total < 20 + 8 || total > len - 14) return false;  // longer frames: Ethernet padding
    if ((ld16(ip + 6) & kFragMask) != 0) return false;      // MF or an offset: a fragment
    uint32_t hs = 0;
#pragma GCC unroll 10
    for (uint32_t i = 0; i < 20; i += 2) hs += ld16(ip + i);
    if (fold32(hs) != 0xffff) return false;  // header checksum
    const uint32_t src = inet::ld32(ip + 12);
    const uint32_t dst = inet::ld32(ip + 16);
    const auto first = static_cast<uint8_t>(dst);  // network order: the first octet
    if (first >= 224 || dst == 0xffffffffu || src == 0) return false;  // multicast, broadcast
    const uint8_t* udp = ip + 20;
    const uint32_t udp_len = swap16(ld16(udp + 4));
    if (udp_len != total - 20) return false;
    if (ld16(udp + 2) == 0) return false;  // port 0
    if (ld16(udp + 6) != 0 && !l4_verified) {
        // The pseudo-header's addresses lie right in front of the UDP
        // header: one sum over addresses, UDP header and payload where
        // they lie in the frame (any alignment), plus the pseudo-header's
        // protocol and length (the UDP length field, checked equal above).
        const uint32_t sum = kProtoWord + ld16(udp + 4) + ringlet_chksum(frame + 14 + 12, static_cast<int>(udp_len + 8));
        if (fold32(sum) != 0xffff) return false;
    }
    out->src_ip = src;
    out->dst_ip = dst;
    out->src_port = ld16(udp);
    out->dst_port = ld16(udp + 2);
    out->payload_off = kUdpHeaders;
    out->payload_len = udp_len - 8;
    return true;
}

}  // namespace udp_parse

inline bool parse_udp_frame_inline(const uint8_t* frame, uint32_t len, bool l4_verified, UdpFrame* out) {
    if (len < kUdpHeaders) return false;
    if ((reinterpret_cast<uintptr_t>(frame) & 1) != 0) [[unlikely]] return parse_udp_frame_odd(frame, len, l4_verified, out);
    return udp_parse::headers(frame, frame, len, l4_verified, out);
}

inline bool write_udp_headers(uint8_t* frame, uint32_t payload_len, uint16_t ip_id, const UdpHeaderTemplate& t) {
    using Word64 [[gnu::may_alias]] = uint64_t;
    using Word32 [[gnu::may_alias]] = uint32_t;
    using Half [[gnu::may_alias]] = uint16_t;
    const uintptr_t at = reinterpret_cast<uintptr_t>(frame);
    if ((at & 1) != 0) return false;
    // kUdpHeaders = 42 bytes: a word, four double-words, a word and a
    // half-word when the frame sits 4 past an 8-byte boundary (the device's
    // buffers), ten words and a half-word when it is 4-aligned, else 21
    // half-words.
    if ((at & 7) == 4) {
        *reinterpret_cast<Word32*>(frame) = *reinterpret_cast<const Word32*>(t.shifted + 4);
#pragma GCC unroll 4
        for (uint32_t i = 4; i < 36; i += 8) {
            *reinterpret_cast<Word64*>(frame + i) = *reinterpret_cast<const Word64*>(t.shifted + 4 + i);
        }
        *reinterpret_cast<Word32*>(frame + 36) = *reinterpret_cast<const Word32*>(t.shifted + 40);
        *reinterpret_cast<Half*>(frame + 40) = *reinterpret_cast<const Half*>(t.shifted + 44);
    } else if ((at & 3) == 0) {
#pragma GCC unroll 10
        for (uint32_t i = 0; i < 40; i += 4) {
            *reinterpret_cast<Word32*>(frame + i) = *reinterpret_cast<const Word32*>(t.bytes + i);
        }
        *reinterpret_cast<Half*>(frame + 40) = *reinterpret_cast<const Half*>(t.bytes + 40);
    } else {
#pragma GCC unroll 21
        for (uint32_t i = 0; i < kUdpHeaders; i += 2) {
            *reinterpret_cast<Half*>(frame + i) = *reinterpret_cast<const Half*>(t.bytes + i);
        }
    }
    uint8_t* ip = frame + 14;
    uint8_t* udp = ip + 20;
    const uint32_t udp_len = 8 + payload_len;
    const uint32_t ip_len = 20 + udp_len;
    // The length and id fields are stored byte by byte (big-endian, no
    // byte swap); the sums, kept as native 16-bit words, take them as
    // x << 8: a 16-bit value byte-swapped is the value times 256 modulo
    // 0xffff, and the one's-complement sum is taken modulo 0xffff (RFC 1071
    // section 2). Every sum here is non-zero, so the folds give exactly the
    // fields a byte-swapped sum would.
    inet::put_be16(ip + 2, static_cast<uint16_t>(ip_len));
    inet::put_be16(ip + 4, ip_id);
    *reinterpret_cast<Half*>(ip + 10) =
        static_cast<uint16_t>(~inet::fold32(t.ip_sum + (ip_len << 8) + (static_cast<uint32_t>(ip_id) << 8)));
    inet::put_be16(udp + 4, static_cast<uint16_t>(udp_len));
    if (t.software_checksum) {
        // The pseudo-header's length and the header's own are the same word.
        const uint32_t sum =
            t.pseudo_sum + t.ports_sum + (udp_len << 9) + ringlet_chksum(frame + kUdpHeaders, static_cast<int>(payload_len));
        const auto c = static_cast<uint16_t>(~inet::fold32(sum));
        *reinterpret_cast<Half*>(udp + 6) = c == 0 ? 0xffff : c;  // 0 would mean "no checksum"
    } else {
        *reinterpret_cast<Half*>(udp + 6) = inet::fold32(t.pseudo_sum + (udp_len << 8));
    }
    return true;
}

}  // namespace ringlet::net
