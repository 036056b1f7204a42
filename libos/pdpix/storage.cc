#include "libos/pdpix/storage.h"

namespace ringlet::pdpix {

Result<void> StorageQueue::check(uint64_t offset, uint32_t len, uint64_t room, bool writes) const {
    if (!m_open) return Error::BadCapability;
    if (len == 0 || len % BlockDevice::kSectorSize != 0 || offset % BlockDevice::kSectorSize != 0 || len > room) {
        return Error::InvalidArgument;
    }
    // Written so that no sum can wrap: offset <= end and len <= end - offset.
    const uint64_t end = m_dev.capacity_bytes();
    if (offset > end || len > end - offset) return Error::OutOfRange;
    if (writes && m_dev.read_only()) return Error::Unsupported;
    return {};
}

rt::Task<Result<void>> StorageQueue::pushat(mem::Buffer* b, uint32_t off, uint32_t len, uint64_t offset) {
    if (b == nullptr || off > b->capacity) co_return Error::InvalidArgument;
    if (auto ok = check(offset, len, b->capacity - off, true); !ok) co_return ok.error();
    co_return co_await m_dev.write(offset, b, off, len);
}

rt::Task<Result<mem::Buffer*>> StorageQueue::popat(uint64_t offset, uint32_t len) {
    if (auto ok = check(offset, len, len, false); !ok) co_return ok.error();
    auto b = m_heap.alloc(len);
    if (!b) co_return b.error();
    // Held across the wait: a cancelled pop's frame drops it (the device
    // keeps its own reference until it is done with the buffer).
    mem::BufferRef guard = mem::BufferRef::adopt(&m_heap, *b);
    auto r = co_await m_dev.read(offset, *b, len);
    if (!r) co_return r.error();
    (*b)->len = len;
    m_heap.retain(*b);  // the caller's reference, outliving the guard
    co_return *b;
}

rt::Task<Result<void>> StorageQueue::flush() {
    if (!m_open) co_return Error::BadCapability;
    co_return co_await m_dev.flush();
}

void StorageQueue::close() {
    if (!m_open) return;
    m_open = false;
    m_storage.close(&m_dev);
}

}  // namespace ringlet::pdpix
