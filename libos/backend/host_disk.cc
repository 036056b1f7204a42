#include "libos/backend/host_disk.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ringlet::backend {

HostDisk* HostDisk::from_env() {
    const char* path = getenv("RINGLET_DISK");
    if (path == nullptr || path[0] == '\0') return nullptr;
    const int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return nullptr;
    uint64_t want = 16u << 20;
    if (const char* s = getenv("RINGLET_DISK_SIZE"); s != nullptr && s[0] != '\0') {
        want = strtoull(s, nullptr, 10);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ::close(fd);
        return nullptr;
    }
    uint64_t bytes = static_cast<uint64_t>(st.st_size);
    if (bytes < want) {
        if (ftruncate(fd, static_cast<off_t>(want)) != 0) {
            ::close(fd);
            return nullptr;
        }
        bytes = want;
    }
    bytes -= bytes % kSectorSize;
    long fail = 0;
    if (const char* s = getenv("RINGLET_DISK_FAIL_FLUSH"); s != nullptr) fail = strtol(s, nullptr, 10);
    return new HostDisk(fd, bytes, fail);
}

HostDisk::~HostDisk() { ::close(m_fd); }

Result<pdpix::BlockDevice*> HostDisk::open(rt::Executor&, mem::DmaHeap&) {
    if (m_held) return Error::Busy;
    m_held = true;
    return static_cast<pdpix::BlockDevice*>(this);
}

void HostDisk::close(pdpix::BlockDevice*) { m_held = false; }

rt::Task<Result<void>> HostDisk::write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
    const uint8_t* p = b->data() + off;
    while (len > 0) {
        const ssize_t n = pwrite(m_fd, p, len, static_cast<off_t>(offset));
        if (n <= 0) co_return Error::IoError;
        p += n;
        offset += static_cast<uint64_t>(n);
        len -= static_cast<uint32_t>(n);
    }
    co_return Result<void>();
}

rt::Task<Result<void>> HostDisk::read(uint64_t offset, mem::Buffer* b, uint32_t len) {
    uint8_t* p = b->data();
    while (len > 0) {
        const ssize_t n = pread(m_fd, p, len, static_cast<off_t>(offset));
        if (n <= 0) co_return Error::IoError;
        p += n;
        offset += static_cast<uint64_t>(n);
        len -= static_cast<uint32_t>(n);
    }
    co_return Result<void>();
}

rt::Task<Result<void>> HostDisk::flush() {
    if (m_fail_flush != 0 && ++m_flushes == m_fail_flush) co_return Error::IoError;
    if (fdatasync(m_fd) != 0) co_return Error::IoError;
    co_return Result<void>();
}

}  // namespace ringlet::backend
