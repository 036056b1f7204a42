// Test doubles for the syscall decoder: a caller whose user memory is one
// readable window (part of it writable) and whose CapSpace is real.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <memory>

#include "kernel/cap/cap_space.h"
#include "kernel/syscall/decode.h"

namespace ringlet::test {

class FakeUserMemory final : public UserMemory {
public:
    static constexpr uint64_t kBase = 0x10000;   // first readable user address
    static constexpr uint64_t kSize = 0x4000;    // readable bytes
    static constexpr uint64_t kWritable = 0x12000;  // [kWritable, kBase + kSize) is writable
    static constexpr uint64_t kUserTop = 0x0000004000000000ull;

    Result<void> copy_in(void* dst, uint64_t src, size_t size) const override {
        ++m_copies;
        if (src < kBase || src - kBase > kSize || size > kSize - (src - kBase)) return Error::BadAddress;
        __builtin_memcpy(dst, m_bytes + (src - kBase), size);
        return ok();
    }
    Result<void> check_writable(uint64_t addr, size_t size) const override {
        if (addr < kWritable || addr - kBase > kSize || size > kSize - (addr - kBase)) return Error::BadAddress;
        return ok();
    }

    // Puts `len` bytes at user address `addr` (inside the window).
    void put(uint64_t addr, const void* bytes, size_t len) { __builtin_memcpy(m_bytes + (addr - kBase), bytes, len); }

    mutable int m_copies = 0;
    uint8_t m_bytes[kSize] = {};
};

}  // namespace ringlet::test
