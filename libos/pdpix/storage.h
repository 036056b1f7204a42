// Storage queues: a PDPIX queue over a block device (Ringlet extension; see
// ringlet_demi.h for the C face).
//
// BlockDevice is what a storage queue needs from a driver: sector-aligned
// zero-copy reads and writes into DMA-heap buffers, a flush, and the size.
// Storage is what the libOS resources offer: the machine's block device,
// claimed for one storage queue at a time. On Ringlet that is the virtio-blk
// queue (libos/backend/blk_queue.h); host tests use a fake.
//
// StorageQueue does everything that is not the device's business: checks
// (alignment, range, read-only) before anything is submitted, buffer
// ownership and the pop buffer's allocation.
#pragma once

#include <stdint.h>

#include "libos/mem/dma_heap.h"
#include "libos/pdpix/queue.h"
#include "libos/rt/executor.h"
#include "libos/rt/task.h"
#include "ringlet/result.h"

namespace ringlet::pdpix {

class BlockDevice {
public:
    static constexpr uint32_t kSectorSize = 512;  // virtio-blk's unit, and PDPIX storage's

    virtual uint64_t capacity_bytes() const = 0;
    virtual bool read_only() const = 0;
    // Writes b->data()[off, off + len) at byte `offset`. The caller has checked that
    // offset and len are whole sectors inside the device, and holds a
    // reference to b until the task ends; if the task is destroyed early the
    // device keeps its own until it is done. BadAddress for a buffer the
    // device cannot reach; the device's status otherwise (IoError,
    // Unsupported, BadFormat, Truncated).
    virtual rt::Task<Result<void>> write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) = 0;
    // Reads len bytes at `offset` into b (zero-copy); as write().
    virtual rt::Task<Result<void>> read(uint64_t offset, mem::Buffer* b, uint32_t len) = 0;
    // Completes once every write completed before it is durable.
    virtual rt::Task<Result<void>> flush() = 0;

protected:
    ~BlockDevice() = default;
};

class Storage {
public:
    // The block device, its completions served by `exec` from now on, its
    // buffers from `heap`. NotFound if the machine has none; Busy while a
    // queue holds it; the device's error if it cannot be brought up.
    virtual Result<BlockDevice*> open(rt::Executor& exec, mem::DmaHeap& heap) = 0;
    // Gives the device back (its in-flight requests finish on their own).
    virtual void close(BlockDevice* dev) = 0;

protected:
    ~Storage() = default;
};

class StorageQueue final : public Queue {
public:
    StorageQueue(Storage& storage, BlockDevice& dev, mem::DmaHeap& heap)
        : m_storage(storage), m_dev(dev), m_heap(heap) {}

    // Writes b->data()[off, off + len) at byte `offset`. InvalidArgument
    // unless offset and len are whole sectors and the bytes lie in b;
    // OutOfRange past the end; Unsupported on a read-only device; else the
    // device's result.
    rt::Task<Result<void>> pushat(mem::Buffer* b, uint32_t off, uint32_t len, uint64_t offset) override;
    // Reads len bytes at `offset` into a new buffer owned by the caller.
    // Errors as pushat(), plus the heap's (OutOfMemory, InvalidArgument for
    // len above its largest buffer).
    rt::Task<Result<mem::Buffer*>> popat(uint64_t offset, uint32_t len) override;
    rt::Task<Result<void>> flush() override;
    Result<uint64_t> capacity() override { return m_dev.capacity_bytes(); }
    void close() override;

private:
    Result<void> check(uint64_t offset, uint32_t len, uint64_t room, bool writes) const;

    Storage& m_storage;
    BlockDevice& m_dev;
    mem::DmaHeap& m_heap;
    bool m_open = true;
};

}  // namespace ringlet::pdpix
