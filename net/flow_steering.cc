#include "net/flow_steering.h"

namespace ringlet::net {

const uint8_t kDefaultRssKey[kRssKeyBytes] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

namespace {

constexpr size_t kEthHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint16_t kFragMask = 0x3fff;  // MF flag and fragment offset

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t load_be32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// The 32 key bits starting at bit `bit` (bit 0 = the MSB of key[0]).
uint32_t key_window(const uint8_t* key, size_t bit) {
    size_t byte = bit / 8;
    uint32_t shift = bit % 8;
    uint64_t w = static_cast<uint64_t>(load_be32(key + byte)) << 8 | key[byte + 4];
    return static_cast<uint32_t>(w >> (8 - shift));
}

void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

}  // namespace

uint32_t toeplitz_hash(const uint8_t* key, size_t key_len, const uint8_t* data, size_t len) {
    // Section 5.1.6.4.3 (Microsoft RSS): for each input bit set, from the
    // most significant bit of the first byte on, XOR in the 32 key bits
    // that start at that bit position. A bit of byte i needs key bytes
    // i..i+4, and i + 4 <= len + 3 < key_len.
    if (key == nullptr || data == nullptr || key_len < len + 4) return 0;
    uint32_t result = 0;
    for (size_t i = 0; i < len; ++i) {
        for (uint32_t b = 0; b < 8; ++b) {
            if ((data[i] & (0x80u >> b)) != 0) result ^= key_window(key, i * 8 + b);
        }
    }
    return result;
}

FlowSteering::FlowSteering() { (void)init(1); }

Result<void> FlowSteering::init(uint16_t cores, const uint8_t* key) {
    if (cores == 0 || cores > kMaxSteeringCores) return Error::InvalidArgument;
    if (key == nullptr) key = kDefaultRssKey;
    for (uint32_t i = 0; i < kRssKeyBytes; ++i) m_key[i] = key[i];
    m_cores = cores;
    // Round-robin: with 128 entries and 1, 2 or 4 cores every core gets the
    // same share of the hash space (other counts differ by one entry).
    for (uint32_t i = 0; i < kSteeringTableEntries; ++i) m_table[i] = static_cast<uint16_t>(i % cores);
    // Toeplitz is linear over XOR, so the hash of 12 bytes is the XOR of
    // each byte's contribution at its position: precompute them.
    for (uint32_t i = 0; i < kFlowTupleBytes; ++i) {
        for (uint32_t v = 0; v < 256; ++v) {
            uint32_t h = 0;
            for (uint32_t b = 0; b < 8; ++b) {
                if ((v & (0x80u >> b)) != 0) h ^= key_window(m_key, i * 8 + b);
            }
            m_lut[i][v] = h;
        }
    }
    return {};
}

uint32_t FlowSteering::hash(const FlowTuple& flow) const {
    uint8_t in[kFlowTupleBytes];
    put_be32(in, flow.src_ip);
    put_be32(in + 4, flow.dst_ip);
    in[8] = static_cast<uint8_t>(flow.src_port >> 8);
    in[9] = static_cast<uint8_t>(flow.src_port);
    in[10] = static_cast<uint8_t>(flow.dst_port >> 8);
    in[11] = static_cast<uint8_t>(flow.dst_port);
    return hash_wire(in, in + 8);
}

// Unrolled, straight from the bytes as they sit in the frame (the hash
// input is the IPv4 addresses and the ports in network order): 12 loads
// and XORs, no tuple built and taken apart again. Core 0 runs this on every
// frame it steers.
uint32_t FlowSteering::hash_wire(const uint8_t* addrs, const uint8_t* ports) const {
    return m_lut[0][addrs[0]] ^ m_lut[1][addrs[1]] ^ m_lut[2][addrs[2]] ^ m_lut[3][addrs[3]] ^
           m_lut[4][addrs[4]] ^ m_lut[5][addrs[5]] ^ m_lut[6][addrs[6]] ^ m_lut[7][addrs[7]] ^
           m_lut[8][ports[0]] ^ m_lut[9][ports[1]] ^ m_lut[10][ports[2]] ^ m_lut[11][ports[3]];
}

// The IPv4 header of a hashable frame (TCP or UDP over IPv4, unfragmented,
// the ports inside len) and where its L4 header starts; nullptr otherwise.
static const uint8_t* hashable_ipv4(const uint8_t* frame, size_t len, const uint8_t** l4_out) {
    if (frame == nullptr || len < kEthHeader + 20) return nullptr;
    if (frame[12] != (kEtherTypeIpv4 >> 8) || frame[13] != (kEtherTypeIpv4 & 0xff)) {
        return nullptr;  // ARP, IPv6, VLAN tags: core 0
    }
    const uint8_t* ip = frame + kEthHeader;
    if ((ip[0] >> 4) != 4) return nullptr;
    const size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
    if (ihl < 20) return nullptr;
    // A fragment carries no ports (or only the first does): not hashable.
    if ((load_be16(ip + 6) & kFragMask) != 0) return nullptr;
    if (ip[9] != kProtoTcp && ip[9] != kProtoUdp) return nullptr;
    if (len < kEthHeader + ihl + 4) return nullptr;  // the ports must be inside the frame
    *l4_out = ip + ihl;
    return ip;
}

bool FlowSteering::parse_flow(const uint8_t* frame, size_t len, FlowTuple* out) {
    const uint8_t* l4 = nullptr;
    const uint8_t* ip = hashable_ipv4(frame, len, &l4);
    if (ip == nullptr) return false;
    out->src_ip = load_be32(ip + 12);
    out->dst_ip = load_be32(ip + 16);
    out->src_port = load_be16(l4);
    out->dst_port = load_be16(l4 + 2);
    return true;
}

uint16_t FlowSteering::core_for_frame(const uint8_t* frame, size_t len) const {
    if (m_cores == 1) return 0;
    const uint8_t* l4 = nullptr;
    const uint8_t* ip = hashable_ipv4(frame, len, &l4);
    if (ip == nullptr) return 0;
    return core_for_hash(hash_wire(ip + 12, l4));
}

}  // namespace ringlet::net
