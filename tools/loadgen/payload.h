// Payload: what each request carries and how an echo is checked.
//
// Layout (little-endian): magic "RLG1" (4 bytes), total size (4), sequence
// number (8), then a pattern derived from the sequence number and the byte
// offset. Every byte is a function of (seq, size, offset), so the receiver
// regenerates the expected bytes instead of keeping a copy of what it sent,
// and a byte echoed into the wrong request or at the wrong offset shows up.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <span>

#include "ringlet/result.h"

namespace ringlet::loadgen {

constexpr size_t kHeaderSize = 16;
constexpr uint32_t kMagic = 0x31474c52;  // "RLG1" read as little-endian

class Payload {
public:
    // The payload of request `seq` with `size` bytes in total.
    Payload(uint64_t seq, uint32_t size);

    uint64_t seq() const { return m_seq; }
    uint32_t size() const { return m_size; }

    // The expected byte at `offset`; precondition: offset < size().
    uint8_t at(size_t offset) const;
    // Writes bytes [offset, offset + out.size()) of the payload into `out`;
    // precondition: offset + out.size() <= size().
    void fill(std::span<uint8_t> out, size_t offset = 0) const;
    // Counts the bytes of `got` that differ from the payload starting at
    // `offset`; bytes beyond size() all count as different.
    uint64_t count_mismatches(std::span<const uint8_t> got, size_t offset = 0) const;

private:
    uint64_t m_seq;
    uint32_t m_size;
    uint64_t m_key;  // per-request pattern key, a hash of m_seq
};

// Counts mismatched bytes of a whole received message against `expected`: the
// differing bytes plus the difference in length.
uint64_t count_message_mismatches(const Payload& expected, std::span<const uint8_t> got);

struct Header {
    uint32_t size;
    uint64_t seq;
};

// Reads the header of a received message; BadFormat when it is short or its
// magic is wrong. The fields are unchecked claims until the whole message
// has been compared with the payload they describe.
Result<Header> peek_header(std::span<const uint8_t> got);

}  // namespace ringlet::loadgen
