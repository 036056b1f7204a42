// Storage from several cores (libos/backend/blk_forward.h): which core uses
// which device queue, the forwarding rings of the CoreMesh, completion
// routing back to the requesting core (and to an abandoned request), a full
// ring refusing with WouldBlock and a counter, core 0 ringing a sleeping
// core whose own queue has completions, and two threads as two cores
// writing and reading through core 0's fake disk.
#include "libos/backend/blk_forward.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "tests/libos/rt/test_platform.h"

namespace ringlet::backend {
namespace {

using rt::test::FakePlatform;
using rt::test::PoolFixture;

constexpr uint64_t kDiskBytes = 1 << 20;

// Core 0's storage: bytes in a vector, each request a turn of the executor
// later (as a device would be).
class FakeTarget final : public BlkTarget {
public:
    rt::Task<Result<void>> serve(uint32_t core, BlkOp op, uint64_t offset, uint8_t* data, uint32_t len) override {
        co_await rt::Executor::current()->yield();
        ++served;
        if (core != 1) co_return Error::BadAddress;  // only core 1 forwards in these tests
        if (fail) co_return Error::IoError;
        if (op == BlkOp::Flush) co_return Result<void>();
        if (offset + len > disk.size()) co_return Error::OutOfRange;
        if (op == BlkOp::Write) {
            memcpy(disk.data() + offset, data, len);
        } else {
            memcpy(data, disk.data() + offset, len);
        }
        co_return Result<void>();
    }
    std::vector<uint8_t> disk = std::vector<uint8_t>(kDiskBytes);
    std::atomic<uint32_t> served{0};
    std::atomic<bool> fail{false};
};

struct Wakes {
    static void wake(void* ctx, uint32_t, uint32_t to) { static_cast<Wakes*>(ctx)->count[to].fetch_add(1); }
    std::atomic<int> count[kMeshCores] = {};
};

std::unique_ptr<CoreMesh> make_mesh(uint32_t cores, Wakes& wakes) {
    auto mesh = std::make_unique<CoreMesh>();
    EXPECT_TRUE(mesh->init(cores, net::MacAddress{}, 0, &Wakes::wake, &wakes).ok());
    return mesh;
}

// One core's heap over its own region.
struct Heap {
    Heap() { heap = *mem::DmaHeap::create(region, sizeof region); }
    alignas(64) unsigned char region[1 << 20];
    mem::DmaHeap heap;
};

rt::Task<void> write_one(ForwardedBlock& dev, mem::DmaHeap& heap, uint64_t offset, uint8_t fill, Error* out) {
    mem::Buffer* b = *heap.alloc(512);
    mem::BufferRef mine = mem::BufferRef::adopt(&heap, b);  // dropped however the task ends
    memset(b->data(), fill, 512);
    auto r = co_await dev.write(offset, b, 0, 512);
    *out = r ? Error::Ok : r.error();
}

// Core 1 alone (core 0's side played by the test through the mesh).
// Members in the order they may be torn down: the executor (its task
// frames hold buffers and the poller) first.
struct BlkForwardCoreOne : ::testing::Test {
    void SetUp() override { ASSERT_TRUE(dev.start(exec, h.heap).ok()); }
    void TearDown() override { dev.stop_polling(); }
    Wakes wakes;
    std::unique_ptr<CoreMesh> mesh = make_mesh(2, wakes);
    PoolFixture pool;
    FakePlatform plat;
    Heap h;
    ForwardedBlock dev{*mesh, 1, kDiskBytes, false};
    rt::Executor exec{plat};
};

TEST(BlkForward, EachCoreItsOwnQueueTheRestForwardToCoreZero) {
    // Enough queues: core k on queue k.
    for (uint32_t k = 0; k < 4; ++k) EXPECT_EQ(blk_queue_for(k, 4), static_cast<int32_t>(k));
    // A single-queue disk: core 0 owns it, every other core forwards.
    EXPECT_EQ(blk_queue_for(0, 1), 0);
    for (uint32_t k = 1; k < 4; ++k) EXPECT_EQ(blk_queue_for(k, 1), -1);
    // Fewer queues than cores: the first ones own one each, the rest forward.
    EXPECT_EQ(blk_queue_for(1, 2), 1);
    EXPECT_EQ(blk_queue_for(2, 2), -1);
    EXPECT_EQ(blk_queue_for(3, 2), -1);
}

TEST(BlkForward, RequestsTravelInOrderAndComeBackToTheirCore) {
    Wakes wakes;
    auto mesh = make_mesh(3, wakes);
    BlkRequest a, b, c;
    a.core = 1;
    b.core = 1;
    c.core = 2;
    // Core 0 asleep: the first push rings it once.
    ASSERT_TRUE(mesh->ready_to_sleep(0));
    ASSERT_TRUE(mesh->blk_forward(1, &a).ok());
    ASSERT_TRUE(mesh->blk_forward(1, &b).ok());
    ASSERT_TRUE(mesh->blk_forward(2, &c).ok());
    EXPECT_EQ(wakes.count[0].load(), 1);
    EXPECT_FALSE(mesh->ready_to_sleep(0));  // requests wait for it
    EXPECT_EQ(mesh->blk_take(1), &a);
    EXPECT_EQ(mesh->blk_take(1), &b);
    EXPECT_EQ(mesh->blk_take(1), nullptr);
    EXPECT_EQ(mesh->blk_take(2), &c);
    // Completions go back to the requester's ring, not another core's.
    ASSERT_TRUE(mesh->ready_to_sleep(2));
    c.status = Error::IoError;
    mesh->blk_complete(&c);
    EXPECT_EQ(wakes.count[2].load(), 1);
    EXPECT_EQ(mesh->blk_take_done(1), nullptr);
    EXPECT_EQ(mesh->blk_take_done(2), &c);
    EXPECT_EQ(c.status, Error::IoError);
    EXPECT_EQ(mesh->stats(1).blk_forwarded, 2u);
    EXPECT_EQ(mesh->stats(2).blk_forwarded, 1u);
    EXPECT_EQ(mesh->stats(0).blk_served, 1u);
}

TEST_F(BlkForwardCoreOne, AFullRingRefusesWithWouldBlockAndCountsNeverWaits) {
    constexpr uint32_t kTasks = kBlkRingSlots + 6;
    Error results[kTasks];
    for (uint32_t i = 0; i < kTasks; ++i) {
        results[i] = Error::Busy;  // not finished
        ASSERT_TRUE(exec.spawn(write_one(dev, h.heap, i * 512, static_cast<uint8_t>(i), &results[i])).ok());
    }
    exec.run_until_idle();  // core 0 never polls: the ring fills
    uint32_t refused = 0;
    for (Error e : results) refused += e == Error::WouldBlock;
    EXPECT_EQ(refused, kTasks - kBlkRingSlots);
    EXPECT_EQ(mesh->stats(1).blk_dropped, kTasks - kBlkRingSlots);
    EXPECT_EQ(mesh->stats(1).blk_forwarded, kBlkRingSlots);
    EXPECT_EQ(dev.in_flight(), kBlkRingSlots);
    // Each request in flight holds its buffer (the tasks dropped theirs).
    EXPECT_EQ(h.heap.live(), kBlkRingSlots);
    // Core 0 answers them all: every task gets Ok and every buffer returns.
    for (BlkRequest* r = mesh->blk_take(1); r != nullptr; r = mesh->blk_take(1)) {
        EXPECT_EQ(r->len, 512u);
        EXPECT_EQ(r->data[0], static_cast<uint8_t>(r->offset / 512));  // zero-copy: the task's own bytes
        mesh->blk_complete(r);
    }
    exec.notify_pollers();  // what the doorbell's wake-up does
    exec.run_until_idle();
    uint32_t ok = 0;
    for (Error e : results) ok += e == Error::Ok;
    EXPECT_EQ(ok, kBlkRingSlots);
    EXPECT_EQ(dev.in_flight(), 0u);
    EXPECT_EQ(h.heap.live(), 0u);
}

TEST_F(BlkForwardCoreOne, AnAbandonedRequestKeepsItsBufferUntilCoreZeroIsDone) {
    Error result = Error::Busy;
    auto id = exec.spawn(write_one(dev, h.heap, 0, 7, &result));
    ASSERT_TRUE(id.ok());
    exec.run_until_idle();
    ASSERT_TRUE(exec.cancel(*id).ok());  // the task is gone; core 0 still has the request
    EXPECT_EQ(result, Error::Busy);
    EXPECT_EQ(h.heap.live(), 1u);  // the device's view of the bytes stays valid
    BlkRequest* r = mesh->blk_take(1);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->data[0], 7);
    mesh->blk_complete(r);
    exec.notify_pollers();
    exec.run_until_idle();
    EXPECT_EQ(h.heap.live(), 0u);
    EXPECT_EQ(dev.in_flight(), 0u);
    // Its descriptor is free again: a new request goes through.
    ASSERT_TRUE(exec.spawn(write_one(dev, h.heap, 512, 8, &result)).ok());
    exec.run_until_idle();
    EXPECT_NE(mesh->blk_take(1), nullptr);
}

TEST(BlkForward, CoreZeroRingsASleepingCoreWhoseOwnQueueHasCompletions) {
    Wakes wakes;
    auto mesh = make_mesh(3, wakes);
    FakeTarget target;
    static std::atomic<uint32_t> pending_mask{0};
    BlkForwardServer server(*mesh, target, [](uint32_t core) { return (pending_mask.load() >> core & 1) != 0; });
    pending_mask = 1u << 2;
    server.poll(32);  // core 2 is awake: it polls its queue itself
    EXPECT_EQ(wakes.count[2].load(), 0);
    ASSERT_TRUE(mesh->ready_to_sleep(2));
    ASSERT_TRUE(mesh->ready_to_sleep(1));
    server.poll(32);
    EXPECT_EQ(wakes.count[2].load(), 1);  // its queue has work
    EXPECT_EQ(wakes.count[1].load(), 0);  // nothing for core 1: let it sleep
}

// Two threads as two cores: core 1 writes 16 sectors (8 requests in
// flight), flushes and reads them back through core 0's server; a failing
// target's status reaches core 1's task.
TEST(BlkForward, TwoCoresConcurrently) {
    Wakes wakes;
    auto mesh = make_mesh(2, wakes);
    FakeTarget target;
    std::atomic<bool> stop{false};
    std::thread owner([&] {
        PoolFixture pool;
        FakePlatform plat;
        rt::Executor exec(plat);
        BlkForwardServer server(*mesh, target);
        ASSERT_TRUE(server.start(exec).ok());
        while (!stop.load()) exec.run_once(true);  // FakePlatform: blocking returns at once
        server.stop_polling();
        exec.run_until_idle();
    });
    bool verified = false;
    Error failed = Error::Ok;
    std::thread core1([&] {
        PoolFixture pool;
        FakePlatform plat;
        rt::Executor exec(plat);
        Heap h;
        ForwardedBlock dev(*mesh, 1, kDiskBytes, false);
        ASSERT_TRUE(dev.start(exec, h.heap).ok());
        bool done = false;
        auto job = [&]() -> rt::Task<void> {
            constexpr uint32_t kN = 8;
            Error res[kN];
            rt::TaskId ids[kN];
            for (uint32_t i = 0; i < kN; ++i) ids[i] = *exec.spawn(write_one(dev, h.heap, i * 1024, uint8_t(i + 1), &res[i]));
            (void)ids;
            while (dev.in_flight() != 0 || h.heap.live() != 0) co_await exec.yield();
            for (Error e : res) EXPECT_EQ(e, Error::Ok);
            auto fl = co_await dev.flush();
            EXPECT_TRUE(fl.ok());
            bool same = true;
            for (uint32_t i = 0; i < kN; ++i) {
                mem::Buffer* b = *h.heap.alloc(512);
                auto r = co_await dev.read(i * 1024, b, 512);
                same = same && r.ok() && b->data()[0] == i + 1 && b->data()[511] == i + 1;
                h.heap.release(b);
            }
            verified = same;
            target.fail = true;  // core 0 now answers IoError
            Error e = Error::Ok;
            co_await write_one(dev, h.heap, 0, 9, &e);
            failed = e;
            done = true;
        };
        ASSERT_TRUE(exec.spawn(job()).ok());
        while (!done) exec.run_once(true);
        EXPECT_EQ(h.heap.live(), 0u);
        dev.stop_polling();
        exec.run_until_idle();
    });
    core1.join();
    stop.store(true);
    owner.join();
    EXPECT_TRUE(verified);
    EXPECT_EQ(failed, Error::IoError);
    EXPECT_EQ(target.disk[8 * 1024 - 1024], 8);
    EXPECT_EQ(mesh->stats(0).blk_served, 8u + 1 + 8 + 1);
    EXPECT_EQ(mesh->stats(1).blk_dropped, 0u);
}

}  // namespace
}  // namespace ringlet::backend
