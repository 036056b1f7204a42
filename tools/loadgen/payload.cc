#include "tools/loadgen/payload.h"

namespace ringlet::loadgen {
namespace {

// splitmix64's finaliser: neighbouring sequence numbers get unrelated
// patterns, so an echo of the previous request does not pass as this one.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint8_t header_byte(uint64_t seq, uint32_t size, size_t offset) {
    if (offset < 4) return static_cast<uint8_t>(kMagic >> (8 * offset));
    if (offset < 8) return static_cast<uint8_t>(size >> (8 * (offset - 4)));
    return static_cast<uint8_t>(seq >> (8 * (offset - 8)));
}

}  // namespace

Payload::Payload(uint64_t seq, uint32_t size) : m_seq(seq), m_size(size), m_key(mix(seq)) {}

uint8_t Payload::at(size_t offset) const {
    if (offset < kHeaderSize) return header_byte(m_seq, m_size, offset);
    // The key's bytes rotate every 8 offsets and the offset itself is folded
    // in, so a shifted copy (lost or duplicated bytes in a stream) mismatches.
    const uint8_t k = static_cast<uint8_t>(m_key >> (8 * (offset & 7)));
    return static_cast<uint8_t>(k ^ offset ^ (offset >> 8) ^ (offset >> 16));
}

void Payload::fill(std::span<uint8_t> out, size_t offset) const {
    for (size_t i = 0; i < out.size(); ++i) out[i] = at(offset + i);
}

uint64_t Payload::count_mismatches(std::span<const uint8_t> got, size_t offset) const {
    uint64_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const size_t at_offset = offset + i;
        if (at_offset >= m_size || got[i] != at(at_offset)) ++bad;
    }
    return bad;
}

uint64_t count_message_mismatches(const Payload& expected, std::span<const uint8_t> got) {
    const uint64_t missing = got.size() < expected.size() ? expected.size() - got.size() : 0;
    return expected.count_mismatches(got) + missing;
}

Result<Header> peek_header(std::span<const uint8_t> got) {
    if (got.size() < kHeaderSize) return Error::BadFormat;
    uint32_t magic = 0;
    Header h{};
    for (size_t i = 0; i < 4; ++i) magic |= uint32_t{got[i]} << (8 * i);
    if (magic != kMagic) return Error::BadFormat;
    for (size_t i = 0; i < 4; ++i) h.size |= uint32_t{got[4 + i]} << (8 * i);
    for (size_t i = 0; i < 8; ++i) h.seq |= uint64_t{got[8 + i]} << (8 * i);
    return h;
}

}  // namespace ringlet::loadgen
