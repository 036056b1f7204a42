// FramePool: the per-core allocator for coroutine frames.
//
// Frames come from an arena the libOS was given (a static array, memory the
// kernel granted, or mmap on Linux), carved into power-of-two size classes
// with one free list each. No general-purpose heap is needed on the target.
// A 16-byte header in front of each frame remembers its pool and class, so a
// frame is returned to the pool it came from.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet::rt {

class FramePool {
public:
    static constexpr uint32_t kClasses = 8;         // 64 B .. 8 KiB frames
    static constexpr size_t kMinFrame = 64;
    static constexpr size_t kHeader = 16;           // keeps frames 16-byte aligned

    // Builds a pool over [arena, arena + size). Fails if the arena is null,
    // misaligned (needs 16 bytes) or smaller than one minimum frame.
    static Result<FramePool> create(void* arena, size_t size);

    FramePool() = default;

    // A frame of at least `size` bytes, 16-byte aligned, or nullptr when the
    // arena is exhausted or `size` exceeds the largest class.
    void* allocate(size_t size);

    // Returns a frame obtained from allocate() on any pool (the header names
    // the owner). nullptr is ignored.
    static void release(void* frame);

    // Frames currently handed out (for tests and leak checks).
    uint32_t live() const { return m_live; }

    // The pool coroutine frames on this core come from; nullptr until
    // install() was called. One libOS instance runs one executor per core;
    // on the host each thread has its own.
    static FramePool* current();
    // Makes `pool` the current pool of this core (nullptr uninstalls).
    static void install(FramePool* pool);

private:
    struct FreeFrame {
        FreeFrame* next;
    };
    struct Header {
        FramePool* pool;
        uint32_t cls;
        uint32_t magic;
    };
    static_assert(sizeof(Header) == kHeader);
    static constexpr uint32_t kMagic = 0x46524d45;  // "FRME"

    static size_t class_size(uint32_t cls) { return kMinFrame << cls; }

    uint8_t* m_next = nullptr;   // bump pointer for never-used memory
    uint8_t* m_end = nullptr;
    FreeFrame* m_free[kClasses] = {};
    uint32_t m_live = 0;
};

}  // namespace ringlet::rt
