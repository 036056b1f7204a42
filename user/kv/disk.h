// Disk: the PDPIX storage queue as kv's log needs it. Synchronous reads,
// writes and flushes (each waits for its own qtoken with demi_wait, so other
// operations' completions stay queued for the event loop) for recovery and
// compaction, and ChunkWriter, which streams bytes to consecutive sectors
// through DMA buffers. Errors are errno values (0: done).
#pragma once

#include <demi/types.h>
#include <stddef.h>
#include <stdint.h>

namespace kv {

class Disk {
public:
    static constexpr uint32_t kChunk = 64 * 1024;  // bytes per I/O request

    // Opens the machine's storage queue (ENODEV: none).
    int open();
    bool is_open() const { return m_qd >= 0; }
    int qd() const { return m_qd; }
    uint64_t capacity() const { return m_capacity; }

    // Reads len bytes (whole sectors) at offset into dst.
    int read(uint64_t offset, uint8_t* dst, size_t len);
    // Writes len bytes (whole sectors) from src at offset.
    int write(uint64_t offset, const uint8_t* src, size_t len);
    int flush();

    // Waits for qt (a storage operation) and returns its errno.
    static int finish(demi_qtoken_t qt);

private:
    int m_qd = -1;
    uint64_t m_capacity = 0;
};

// Streams bytes to the disk from `offset` on, in kChunk requests; the last
// partial sector is padded with zeros by finish(). Synchronous.
class ChunkWriter {
public:
    ChunkWriter(Disk& disk, uint64_t offset, uint64_t limit) : m_disk(disk), m_offset(offset), m_limit(limit) {}
    ~ChunkWriter();
    ChunkWriter(const ChunkWriter&) = delete;
    ChunkWriter& operator=(const ChunkWriter&) = delete;

    // Appends n bytes; false once anything failed or the bytes would pass
    // `limit` (the error() says which).
    bool put(const void* p, size_t n);
    // Writes what is buffered (padded to a sector). Returns the errno.
    int finish();
    int error() const { return m_error; }
    uint64_t written() const { return m_total; }  // bytes put so far

private:
    int write_out(size_t len);

    Disk& m_disk;
    uint64_t m_offset;
    uint64_t m_limit;
    demi_sgarray_t m_sga{};
    size_t m_used = 0;
    uint64_t m_total = 0;
    int m_error = 0;
};

}  // namespace kv
