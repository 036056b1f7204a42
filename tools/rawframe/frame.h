// Frame: builders for Ethernet/IPv4/UDP/TCP frames as raw bytes, with the
// checksums computed here (RFC 791, 768, 793; the one's-complement sum of
// RFC 1071), so a test can send them from below the host's own stack and
// change any byte afterwards.
#pragma once

#include <stdint.h>

#include <array>
#include <span>
#include <vector>

namespace ringlet::rawframe {

using Frame = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline constexpr size_t kEthHeader = 14;
inline constexpr size_t kIpv4Header = 20;  // without options
inline constexpr size_t kUdpHeader = 8;
inline constexpr size_t kTcpHeader = 20;   // without options
inline constexpr size_t kMinFrame = 60;    // without the FCS
inline constexpr size_t kMaxFrame = 1514;  // 1500-byte MTU, without the FCS

inline constexpr uint16_t kEtherIpv4 = 0x0800;
inline constexpr uint16_t kEtherArp = 0x0806;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;

// TCP flag bits (byte 13 of the header).
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;

// IPv4 addresses are in host order (10.0.2.15 is 0x0a00020f).
struct Endpoints {
    Mac src_mac{};
    Mac dst_mac{};
    uint32_t src_ip = 0;
    uint32_t dst_ip = 0;
};

// The 16-bit one's-complement sum of `bytes` (an odd last byte padded with
// zero) added to `sum`, not folded or inverted: partial sums chain.
uint32_t sum16(std::span<const uint8_t> bytes, uint32_t sum = 0);

// Folds a partial sum to 16 bits and inverts it: the value a checksum field
// holds. Summing a region that includes a correct checksum gives 0.
uint16_t fold_checksum(uint32_t sum);

// The IPv4 header checksum of `header` (its checksum field taken as zero).
uint16_t ipv4_checksum(std::span<const uint8_t> header);

// The UDP or TCP checksum of `segment` (header + data, its checksum field
// taken as zero) under the IPv4 pseudo-header. UDP's 0 ("no checksum") is
// sent as 0xffff, as RFC 768 asks.
uint16_t l4_checksum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, std::span<const uint8_t> segment);

// Big-endian field access at `at`; the caller keeps `at` inside the buffer.
void put16(std::span<uint8_t> b, size_t at, uint16_t v);
void put32(std::span<uint8_t> b, size_t at, uint32_t v);
uint16_t get16(std::span<const uint8_t> b, size_t at);
uint32_t get32(std::span<const uint8_t> b, size_t at);

// An Ethernet frame: destination, source, `ethertype`, then `payload`.
// Not padded: short frames stay short.
Frame ethernet(const Endpoints& ep, uint16_t ethertype, std::span<const uint8_t> payload);

struct Ipv4Fields {
    uint16_t id = 1;
    uint16_t frag = 0x4000;  // flags + offset in 8-byte units; default DF
    uint8_t ttl = 64;
    std::vector<uint8_t> options;  // padded by the caller to a multiple of 4
};

// An IPv4 packet (header with a correct checksum, then `payload`) in an
// Ethernet frame.
Frame ipv4_frame(const Endpoints& ep, uint8_t proto, std::span<const uint8_t> payload, const Ipv4Fields& f = {});

// A UDP datagram with a correct checksum in an IPv4 frame.
Frame udp_frame(const Endpoints& ep, uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload,
                const Ipv4Fields& f = {});

struct TcpFields {
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t flags = 0;
    uint16_t window = 8192;
    uint16_t urgent = 0;
    std::vector<uint8_t> options;  // padded by the caller to a multiple of 4
    std::vector<uint8_t> payload;
};

// A TCP segment with a correct checksum in an IPv4 frame.
Frame tcp_frame(const Endpoints& ep, const TcpFields& t, const Ipv4Fields& f = {});

// An ICMP message (type, code, a correct checksum, then `rest`: the 4-byte
// rest-of-header and the data) in an IPv4 frame.
Frame icmp_frame(const Endpoints& ep, uint8_t type, uint8_t code, std::span<const uint8_t> rest);

// An ARP request (opcode 1) for `target_ip` from `ep`'s source, in a frame
// to `ep`'s destination MAC.
Frame arp_request(const Endpoints& ep, uint32_t target_ip);

// Where an IPv4 frame's parts start, as far as its bytes allow: valid is
// false unless the frame holds an Ethernet + IPv4 header whose IHL fits.
struct Layout {
    bool valid = false;
    size_t ip = kEthHeader;
    size_t l4 = 0;      // first byte after the IPv4 header
    size_t l4_end = 0;  // end of the IPv4 packet (total length clamped to the frame)
    uint8_t proto = 0;
};
Layout parse_layout(std::span<const uint8_t> frame);

// Recomputes the IPv4 header checksum and, for an unfragmented UDP or TCP
// packet whose header fits, the transport checksum, from the bytes as they
// stand: a mutated frame then gets past checksum checks into the parsers.
// Returns false (frame unchanged) when there is no IPv4 header to fix.
bool fix_checksums(Frame& frame);

}  // namespace ringlet::rawframe
