// LibOs::close (issue 16): closing a queue completes exactly its own pending
// operations as ECANCELED - the pops parked on it and the operations its
// tasks carry out - and leaves every other queue's alone; and it visits only
// those operations, however many others the table holds.
#include "libos/pdpix/libos.h"

#include <errno.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "libos/rt/notifier.h"
#include "tests/libos/rt/test_platform.h"

namespace ringlet::pdpix {
namespace {

// A queue whose pops never find data: a SOCK_DGRAM one parks them (as the
// network backend does), a SOCK_STREAM one waits in a task (as loopback).
class FakeQueue final : public Queue {
public:
    explicit FakeQueue(bool parks) : m_parks(parks) {}
    bool park_pop(PopWaiter* w) override {
        if (!m_parks) return false;
        park(w);
        return true;
    }
    rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from) override {
        (void)from;
        co_await m_never.wait();
        co_return Error::Closed;
    }
    // Hands b to the oldest parked pop; false if none is parked.
    bool deliver(mem::Buffer* b) {
        PopWaiter* w = take_parked_pop();
        if (w == nullptr) return false;
        w->complete(b, sockaddr_in{});
        return true;
    }

private:
    bool m_parks;
    rt::Notifier m_never;
};

class FakeBackend final : public Backend {
public:
    rt::Platform& platform() override { return m_platform; }
    Result<void> start(rt::Executor&, mem::DmaHeap&) override { return {}; }
    Result<Queue*> socket(int, int type, int) override {
        auto* q = new FakeQueue(type == SOCK_DGRAM);
        queues.push_back(q);
        return q;
    }
    void destroy(Queue* q) override {
        std::erase(queues, q);
        delete static_cast<FakeQueue*>(q);
    }
    std::vector<FakeQueue*> queues;

private:
    rt::test::FakePlatform m_platform;
};

class LibOsClose : public ::testing::Test {
protected:
    void SetUp() override {
        auto pool = rt::FramePool::create(m_frames.data(), m_frames.size() * sizeof(Chunk));
        auto heap = mem::DmaHeap::create(m_dma.data(), m_dma.size() * sizeof(Chunk));
        ASSERT_TRUE(pool.ok() && heap.ok());
        m_os = std::make_unique<LibOs>(m_backend, *pool, *heap);
        ASSERT_TRUE(m_os->start().ok());
    }
    void TearDown() override {
        m_os.reset();
        rt::Executor::install(nullptr);
        rt::FramePool::install(nullptr);
    }
    int socket(int type) {
        auto qd = m_os->socket(AF_INET, type, 0);
        EXPECT_TRUE(qd.ok());
        return qd.ok() ? *qd : -1;
    }
    std::vector<demi_qtoken_t> pops(int qd, int n) {
        std::vector<demi_qtoken_t> qts;
        for (int k = 0; k < n; ++k) {
            auto qt = m_os->start_pop(qd);
            EXPECT_TRUE(qt.ok());
            if (qt.ok()) qts.push_back(*qt);
        }
        m_os->executor().run_until_idle();  // the task-run pops start and wait
        return qts;
    }
    // Every token completed as a cancelled operation of qd.
    void expect_cancelled(const std::vector<demi_qtoken_t>& qts, int qd) {
        for (demi_qtoken_t qt : qts) {
            alignas(8) demi_qresult_t r{};
            ASSERT_EQ(m_os->wait(&r, qt, &kZero), 0);
            EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
            EXPECT_EQ(r.qr_ret, ECANCELED);
            EXPECT_EQ(r.qr_qd, qd);
            EXPECT_EQ(r.qr_qt, qt);
        }
    }
    void expect_pending(const std::vector<demi_qtoken_t>& qts) {
        for (demi_qtoken_t qt : qts) {
            alignas(8) demi_qresult_t r{};
            EXPECT_EQ(m_os->wait(&r, qt, &kZero), ETIMEDOUT);
        }
    }

    static constexpr timespec kZero{0, 0};
    struct alignas(64) Chunk {
        unsigned char b[64];
    };
    std::vector<Chunk> m_frames = std::vector<Chunk>((8 << 20) / sizeof(Chunk));
    std::vector<Chunk> m_dma = std::vector<Chunk>((1 << 20) / sizeof(Chunk));
    FakeBackend m_backend;
    std::unique_ptr<LibOs> m_os;
};

TEST_F(LibOsClose, CancelsExactlyTheQueuesOwnParkedAndTaskOperations) {
    const int parked_a = socket(SOCK_DGRAM), parked_b = socket(SOCK_DGRAM);
    const int tasked_a = socket(SOCK_STREAM), tasked_b = socket(SOCK_STREAM);
    const auto pa = pops(parked_a, 3), pb = pops(parked_b, 2);
    const auto ta = pops(tasked_a, 4), tb = pops(tasked_b, 2);
    const uint32_t pending = m_os->pending_ops();
    ASSERT_EQ(pending, 11u);

    uint64_t visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(parked_a).ok());
    EXPECT_EQ(m_os->close_visits() - visits, 3u);
    visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(tasked_a).ok());
    EXPECT_EQ(m_os->close_visits() - visits, 4u);
    expect_cancelled(pa, parked_a);
    expect_cancelled(ta, tasked_a);

    // The other queues' operations are untouched: still pending, and a
    // parked pop still completes with the data its queue receives.
    expect_pending(pb);
    expect_pending(tb);
    EXPECT_EQ(m_os->pending_ops(), 4u);
    FakeQueue* q = m_backend.queues[0];  // parked_b (parked_a is gone)
    auto buf = m_os->heap().alloc(32);
    ASSERT_TRUE(buf.ok());
    (*buf)->app_owned = false;  // the queue's reference, as a received frame
    ASSERT_TRUE(q->deliver(*buf));
    alignas(8) demi_qresult_t r{};
    ASSERT_EQ(m_os->wait(&r, pb[0], &kZero), 0);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_buf, (*buf)->begin());
    (*buf)->app_owned = true;  // handed to the app by the pop
    EXPECT_TRUE(m_os->sgafree(&r.qr_value.sga).ok());

    visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(parked_b).ok());
    ASSERT_TRUE(m_os->close(tasked_b).ok());
    EXPECT_EQ(m_os->close_visits() - visits, 3u);
    expect_cancelled({pb[1]}, parked_b);
    expect_cancelled(tb, tasked_b);
    EXPECT_EQ(m_os->pending_ops(), 0u);
    EXPECT_EQ(m_os->executor().live_tasks(), 0u) << "the cancelled pops' tasks are gone";
}

// A task-run op that finished before the close is off its queue's list: the
// close neither visits nor changes it, and its result stays what it was.
TEST_F(LibOsClose, SkipsOperationsThatCompletedBeforeTheClose) {
    const int qd = socket(SOCK_STREAM);
    auto qt = m_os->start_accept(qd);  // the base Queue's accept: Unsupported
    ASSERT_TRUE(qt.ok());
    const auto waiting = pops(qd, 2);
    const uint64_t visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(qd).ok());
    EXPECT_EQ(m_os->close_visits() - visits, 2u);
    alignas(8) demi_qresult_t r{};
    ASSERT_EQ(m_os->wait(&r, *qt, &kZero), 0);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, ENOTSUP);
    expect_cancelled(waiting, qd);
}

// close() costs O(its queue's pending operations): with nearly the whole
// table pending on other queues, closing a queue with one operation visits
// one.
TEST_F(LibOsClose, CostDoesNotDependOnTheTableSize) {
    const int busy_parked = socket(SOCK_DGRAM), busy_tasked = socket(SOCK_STREAM);
    const auto many_parked = pops(busy_parked, LibOs::kMaxOps / 2);
    const auto many_tasked = pops(busy_tasked, LibOs::kMaxOps / 2 - 4);
    const int one = socket(SOCK_DGRAM), none = socket(SOCK_STREAM);
    const auto mine = pops(one, 1);
    ASSERT_EQ(m_os->pending_ops(), LibOs::kMaxOps - 3);

    uint64_t visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(one).ok());
    EXPECT_EQ(m_os->close_visits() - visits, 1u);
    expect_cancelled(mine, one);
    visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(none).ok());
    EXPECT_EQ(m_os->close_visits() - visits, 0u);
    EXPECT_EQ(m_os->pending_ops(), LibOs::kMaxOps - 4);

    visits = m_os->close_visits();
    ASSERT_TRUE(m_os->close(busy_tasked).ok());
    EXPECT_EQ(m_os->close_visits() - visits, many_tasked.size());
    expect_cancelled(many_tasked, busy_tasked);
    expect_pending({many_parked.front(), many_parked.back()});
    ASSERT_TRUE(m_os->close(busy_parked).ok());
    expect_cancelled(many_parked, busy_parked);
    EXPECT_EQ(m_os->pending_ops(), 0u);
}

}  // namespace
}  // namespace ringlet::pdpix
