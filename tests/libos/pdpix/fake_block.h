// FakeBlock: a pdpix::BlockDevice over a byte vector, for storage queue
// tests. Requests complete at once or, in manual mode, when the test says;
// statuses can be injected (a device error moves no data). Like the real
// driver, a request holds its own reference to the buffer until it
// completes, even if its task is gone. FakeStorage hands it out.
#pragma once

#include <coroutine>
#include <cstring>
#include <deque>
#include <vector>

#include "libos/pdpix/storage.h"

namespace ringlet::test {

class FakeBlock final : public pdpix::BlockDevice {
public:
    enum class Kind { Read, Write, Flush };
    struct Request {
        Kind kind;
        uint64_t offset;
        uint32_t off;  // where the bytes start in buf->data()
        uint32_t len;
        mem::Buffer* buf;
        Error status = Error::Ok;
        bool done = false;
        rt::Waker waker;
    };

    explicit FakeBlock(uint64_t bytes) : disk(bytes, 0) {}

    uint64_t capacity_bytes() const override { return disk.size(); }
    bool read_only() const override { return ro; }
    rt::Task<Result<void>> write(uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) override {
        co_return co_await submit(Kind::Write, offset, b, off, len);
    }
    rt::Task<Result<void>> read(uint64_t offset, mem::Buffer* b, uint32_t len) override {
        co_return co_await submit(Kind::Read, offset, b, 0, len);
    }
    rt::Task<Result<void>> flush() override { co_return co_await submit(Kind::Flush, 0, nullptr, 0, 0); }

    // Finishes request i with its status: moves the data if Ok, drops the
    // device's buffer reference and wakes the task (if it still exists).
    void complete(size_t i) {
        Request& r = requests[i];
        if (r.done) return;
        r.done = true;
        if (r.status == Error::Ok && r.kind == Kind::Write) std::memcpy(&disk[r.offset], r.buf->data() + r.off, r.len);
        if (r.status == Error::Ok && r.kind == Kind::Read) std::memcpy(r.buf->data(), &disk[r.offset], r.len);
        if (r.buf != nullptr) heap->release(r.buf);
        r.buf = nullptr;
        r.waker.wake();
    }
    size_t pending() const {
        size_t n = 0;
        for (const Request& r : requests) n += r.done ? 0 : 1;
        return n;
    }

    std::vector<uint8_t> disk;
    bool ro = false;
    bool manual = false;           // requests wait for complete()
    std::deque<Error> fail_next;   // statuses for the next requests, in order
    std::deque<Request> requests;  // every request the device saw
    mem::DmaHeap* heap = nullptr;  // set by FakeStorage::open

private:
    struct Done {
        FakeBlock* dev;
        size_t i;
        bool await_ready() const { return dev->requests[i].done; }
        void await_suspend(std::coroutine_handle<> h) { dev->requests[i].waker = rt::Executor::current()->park(h); }
        void await_resume() const {}
    };

    rt::Task<Result<void>> submit(Kind kind, uint64_t offset, mem::Buffer* b, uint32_t off, uint32_t len) {
        // A real device would corrupt memory on a bad request: the queue
        // must never send one.
        if (kind != Kind::Flush && (offset % kSectorSize != 0 || len % kSectorSize != 0 || len == 0 ||
                                    offset + len > disk.size() || off + len > b->capacity)) {
            bad_requests++;
            co_return Error::BadFormat;
        }
        Request r{kind, offset, off, len, b, Error::Ok, false, rt::Waker{}};
        if (!fail_next.empty()) {
            r.status = fail_next.front();
            fail_next.pop_front();
        }
        if (b != nullptr) heap->retain(b);
        requests.push_back(r);
        const size_t i = requests.size() - 1;
        if (!manual) complete(i);
        co_await Done{this, i};
        co_return requests[i].status == Error::Ok ? Result<void>() : Result<void>(requests[i].status);
    }

public:
    int bad_requests = 0;
};

class FakeStorage final : public pdpix::Storage {
public:
    explicit FakeStorage(FakeBlock* dev) : m_dev(dev) {}
    Result<pdpix::BlockDevice*> open(rt::Executor&, mem::DmaHeap& heap) override {
        if (m_dev == nullptr) return Error::NotFound;
        if (held) return Error::Busy;
        held = true;
        ++opens;
        m_dev->heap = &heap;
        return m_dev;
    }
    void close(pdpix::BlockDevice* dev) override {
        if (dev == m_dev) held = false;
    }
    bool held = false;
    int opens = 0;

private:
    FakeBlock* m_dev;
};

}  // namespace ringlet::test
