// FakePlatform: a manual clock for executor tests. block() advances the
// clock to the deadline (so timers fire deterministically) and counts calls.
#pragma once

#include <stdint.h>

#include <vector>

#include "libos/rt/executor.h"
#include "libos/rt/frame_pool.h"

namespace ringlet::rt::test {

class FakePlatform final : public Platform {
public:
    uint64_t now_ns() override { return m_now; }
    void block(uint64_t deadline_ns) override {
        ++m_blocks;
        m_last_deadline = deadline_ns;
        if (deadline_ns != kForever && deadline_ns > m_now) m_now = deadline_ns;
    }
    uint64_t m_now = 1000;
    uint64_t m_blocks = 0;
    uint64_t m_last_deadline = 0;
};

// A frame pool over a vector, installed for the test's thread.
class PoolFixture {
public:
    explicit PoolFixture(size_t bytes = 4 << 20) : m_arena(bytes / 16) {
        auto p = FramePool::create(m_arena.data(), m_arena.size() * 16);
        if (p.ok()) m_pool = *p;
        FramePool::install(&m_pool);
    }
    ~PoolFixture() { FramePool::install(nullptr); }
    FramePool& pool() { return m_pool; }

private:
    struct alignas(16) Chunk {
        unsigned char b[16];
    };
    std::vector<Chunk> m_arena;
    FramePool m_pool;
};

}  // namespace ringlet::rt::test
