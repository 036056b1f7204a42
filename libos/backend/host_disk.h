// HostDisk: a file as the machine's block device on Linux, so PDPIX storage
// queues (and apps built on them, like user/kv) run on the host with the
// same code as on Ringlet's virtio-blk. pread/pwrite/fdatasync, each
// completing at once (the coroutine never suspends).
//
// RINGLET_DISK=PATH names the file (created if missing, grown to
// RINGLET_DISK_SIZE bytes, default 16 MiB, when shorter). A test hook,
// RINGLET_DISK_FAIL_FLUSH=N, makes the N-th flush (1-based) fail with
// IoError, as QEMU's blkdebug does on Ringlet.
#pragma once

#include "libos/pdpix/storage.h"

namespace ringlet::backend {

class HostDisk final : public pdpix::BlockDevice, public pdpix::Storage {
public:
    // The disk RINGLET_DISK names, or nullptr when unset (no storage).
    static HostDisk* from_env();

    ~HostDisk();

    // ---- pdpix::Storage ----
    Result<pdpix::BlockDevice*> open(rt::Executor& exec, mem::DmaHeap& heap) override;
    void close(pdpix::BlockDevice* dev) override;

    // ---- pdpix::BlockDevice ----
    uint64_t capacity_bytes() const override { return m_bytes; }
    bool read_only() const override { return false; }
    rt::Task<Result<void>> write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) override;
    rt::Task<Result<void>> read(uint64_t offset, mem::Buffer* b, uint32_t len) override;
    rt::Task<Result<void>> flush() override;

private:
    HostDisk(int fd, uint64_t bytes, long fail_flush) : m_fd(fd), m_bytes(bytes), m_fail_flush(fail_flush) {}

    int m_fd;
    uint64_t m_bytes;
    long m_fail_flush;  // 0: never
    long m_flushes = 0;
    bool m_held = false;
};

}  // namespace ringlet::backend
