// PDPIX storage queues (ringlet_demi_blk_open, _pushat, _popat, _flush,
// _blk_capacity) through the C API, over a fake block device: results via
// the demi_wait family, checks before submission, device errors as qr_ret,
// buffer ownership on success, failure and cancellation.
#include <errno.h>

#include <memory>
#include <string>
#include <vector>

#include "libos/backend/loopback.h"
#include "libos/pdpix/libos.h"
#include "tests/libos/pdpix/demi_fixture.h"
#include "tests/libos/pdpix/fake_block.h"

namespace ringlet::test {
namespace {

constexpr uint64_t kDiskBytes = 1 << 20;
constexpr uint32_t kSector = RINGLET_DEMI_SECTOR_SIZE;
constexpr timespec kZero{0, 0};

// A LibOs over loopback with `storage` as its block device, installed as
// the instance the demi_* functions use.
class Storage : public ::testing::Test {
public:
    void SetUp() override { start(&m_storage); }
    void TearDown() override { stop(); }

    void start(pdpix::Storage* storage) {
        auto pool = rt::FramePool::create(m_frames.data(), m_frames.size() * sizeof(Chunk));
        auto heap = mem::DmaHeap::create(m_dma.data(), m_dma.size() * sizeof(Chunk));
        ASSERT_TRUE(pool.ok() && heap.ok());
        m_os = std::make_unique<pdpix::LibOs>(m_backend, *pool, *heap, storage);
        pdpix::LibOs::set_instance(m_os.get());
        ASSERT_TRUE(m_os->start().ok());
    }
    void stop() {
        m_os.reset();
        pdpix::LibOs::set_instance(nullptr);
        rt::Executor::install(nullptr);
        rt::FramePool::install(nullptr);
    }

    uint32_t live() const { return m_os->heap().live(); }
    // An sga of len bytes, each byte `fill`.
    static demi_sgarray_t sga(uint32_t len, uint8_t fill) {
        demi_sgarray_t s = demi_sgaalloc(len);
        if (s.sga_numsegs == 1) std::memset(s.sga_segs[0].sgaseg_buf, fill, len);
        return s;
    }
    static const uint8_t* bytes(const demi_sgarray_t& s) { return static_cast<const uint8_t*>(s.sga_segs[0].sgaseg_buf); }
    int open() {
        int qd = -1;
        EXPECT_EQ(ringlet_demi_blk_open(&qd), 0);
        return qd;
    }
    // Waits for the operation whose start returned start_rc and wrote *qt
    // (a pointer: read after the start): the result, or an INVALID opcode
    // with qr_ret = the start's or the wait's errno.
    static demi_qresult_t done(int start_rc, const demi_qtoken_t* qt, const timespec* timeout = nullptr) {
        demi_qresult_t qr{};
        qr.qr_opcode = DEMI_OPC_INVALID;
        qr.qr_ret = start_rc;
        if (start_rc != 0) return qr;
        if (const int e = demi_wait(&qr, *qt, timeout); e != 0) qr.qr_ret = e;
        return qr;
    }
    demi_qresult_t pushat(int qd, const demi_sgarray_t& s, uint64_t offset) {
        demi_qtoken_t qt = 0;
        return done(ringlet_demi_pushat(&qt, qd, &s, offset), &qt);
    }
    demi_qresult_t popat(int qd, uint64_t offset, uint32_t len) {
        demi_qtoken_t qt = 0;
        return done(ringlet_demi_popat(&qt, qd, offset, len), &qt);
    }

protected:
    struct alignas(64) Chunk {
        unsigned char b[64];
    };
    std::vector<Chunk> m_frames = std::vector<Chunk>((4 << 20) / sizeof(Chunk));
    std::vector<Chunk> m_dma = std::vector<Chunk>((4 << 20) / sizeof(Chunk));
    backend::LoopbackBackend m_backend;
    FakeBlock m_dev{kDiskBytes};
    FakeStorage m_storage{&m_dev};
    std::unique_ptr<pdpix::LibOs> m_os;
};

TEST_F(Storage, OpenCapacityAndExclusiveUse) {
    const int qd = open();
    uint64_t bytes = 0;
    EXPECT_EQ(ringlet_demi_blk_capacity(qd, &bytes), 0);
    EXPECT_EQ(bytes, kDiskBytes);
    int again = -1;
    EXPECT_EQ(ringlet_demi_blk_open(&again), EBUSY) << "one storage queue at a time";
    EXPECT_EQ(ringlet_demi_blk_open(nullptr), EINVAL);
    EXPECT_EQ(ringlet_demi_blk_capacity(qd, nullptr), EINVAL);
    EXPECT_EQ(ringlet_demi_blk_capacity(qd + 1, &bytes), EBADF);
    EXPECT_EQ(demi_close(qd), 0);
    EXPECT_FALSE(m_storage.held) << "close gives the device back";
    const int reopened = open();
    EXPECT_EQ(m_storage.opens, 2);
    EXPECT_EQ(demi_close(reopened), 0);
}

TEST_F(Storage, NoDeviceIsEnodev) {
    stop();
    FakeStorage none(nullptr);
    start(&none);
    int qd = -1;
    EXPECT_EQ(ringlet_demi_blk_open(&qd), ENODEV);
    stop();
    start(nullptr);  // resources without any storage (the host's)
    EXPECT_EQ(ringlet_demi_blk_open(&qd), ENODEV);
}

TEST_F(Storage, WriteThenReadRoundTripIsZeroCopy) {
    const int qd = open();
    const uint32_t base = live();
    demi_sgarray_t out = sga(2 * kSector, 0x5a);
    demi_qresult_t qr = pushat(qd, out, 3 * kSector);
    ASSERT_EQ(qr.qr_opcode, DEMI_OPC_PUSH);
    EXPECT_EQ(qr.qr_ret, 0);
    EXPECT_EQ(qr.qr_qd, qd);
    EXPECT_EQ(qr.qr_value.sga.sga_segs[0].sgaseg_buf, out.sga_segs[0].sgaseg_buf) << "the result names the pushed sga";
    ASSERT_EQ(m_dev.requests.size(), 1u);
    EXPECT_EQ(m_dev.requests[0].kind, FakeBlock::Kind::Write);
    EXPECT_EQ(m_dev.requests[0].offset, 3u * kSector);
    EXPECT_EQ(m_dev.disk[3 * kSector], 0x5a);
    EXPECT_EQ(m_dev.disk[5 * kSector - 1], 0x5a);
    EXPECT_EQ(m_dev.disk[5 * kSector], 0) << "nothing past the write";

    qr = popat(qd, 3 * kSector, 2 * kSector);
    ASSERT_EQ(qr.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(qr.qr_ret, 0);
    demi_sgarray_t in = qr.qr_value.sga;
    ASSERT_EQ(in.sga_numsegs, 1u);
    EXPECT_EQ(in.sga_segs[0].sgaseg_len, 2 * kSector);
    EXPECT_EQ(std::memcmp(bytes(in), bytes(out), 2 * kSector), 0);
    EXPECT_TRUE(m_os->heap().contains(bytes(in))) << "popped data lies in the DMA heap";
    EXPECT_EQ(m_dev.requests[1].buf, nullptr) << "the device dropped its reference";
    EXPECT_EQ(live(), base + 2) << "both sgas are the app's";
    EXPECT_EQ(demi_sgafree(&in), 0);
    EXPECT_EQ(demi_sgafree(&out), 0);
    EXPECT_EQ(live(), base);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(Storage, BadRequestsAreRefusedBeforeTheDevice) {
    const int qd = open();
    const uint32_t base = live();
    demi_sgarray_t one = sga(kSector, 1);
    demi_sgarray_t partial = sga(100, 2);
    struct Case {
        const char* what;
        demi_qresult_t qr;
        int want;
    } cases[] = {
        {"write at a misaligned offset", pushat(qd, one, 100), EINVAL},
        {"write of a partial sector", pushat(qd, partial, 0), EINVAL},
        {"write past the end", pushat(qd, one, kDiskBytes), ERANGE},
        {"write straddling the end", pushat(qd, sga(2 * kSector, 0), kDiskBytes - kSector), ERANGE},
        {"write near 2^64", pushat(qd, one, ~uint64_t{0} - (kSector - 1)), ERANGE},
        {"read at a misaligned offset", popat(qd, 1, kSector), EINVAL},
        {"read of no bytes", popat(qd, 0, 0), EINVAL},
        {"read of a partial sector", popat(qd, 0, 700), EINVAL},
        {"read past the end", popat(qd, kDiskBytes, kSector), ERANGE},
        {"read near 2^64", popat(qd, ~uint64_t{0} - (kSector - 1), kSector), ERANGE},
        {"read beyond the heap's largest buffer", popat(qd, 0, 512 * kSector), EINVAL},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(c.qr.qr_opcode, DEMI_OPC_FAILED) << c.what;
        EXPECT_EQ(c.qr.qr_ret, c.want) << c.what;
    }
    EXPECT_TRUE(m_dev.requests.empty()) << "nothing reached the device";
    EXPECT_EQ(m_dev.bad_requests, 0);
    demi_qtoken_t qt = 0;
    EXPECT_EQ(ringlet_demi_pushat(&qt, qd, nullptr, 0), EINVAL);
    EXPECT_EQ(ringlet_demi_pushat(nullptr, qd, &one, 0), EINVAL);
    EXPECT_EQ(ringlet_demi_popat(&qt, qd + 7, 0, kSector), EBADF);
    EXPECT_EQ(demi_sgafree(&one), 0) << "a refused write leaves the sga the app's";
    EXPECT_EQ(demi_sgafree(&partial), 0);
    EXPECT_EQ(live(), base + 1) << "only the unnamed straddling sga is left";
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(Storage, ReadOnlyDeviceRefusesWrites) {
    m_dev.ro = true;
    const int qd = open();
    demi_sgarray_t one = sga(kSector, 1);
    const demi_qresult_t qr = pushat(qd, one, 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(qr.qr_ret, ENOTSUP);
    EXPECT_TRUE(m_dev.requests.empty());
    EXPECT_EQ(popat(qd, 0, kSector).qr_ret, 0) << "reads still work";
    EXPECT_EQ(demi_sgafree(&one), 0);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(Storage, DeviceErrorsComeBackThroughQrRetAndLoseNothing) {
    const int qd = open();
    const uint32_t base = live();
    demi_sgarray_t out = sga(kSector, 0x77);
    m_dev.fail_next = {Error::IoError, Error::Unsupported, Error::Truncated};
    demi_qresult_t qr = pushat(qd, out, 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(qr.qr_ret, EIO) << "VIRTIO_BLK_S_IOERR";
    EXPECT_EQ(m_dev.disk[0], 0) << "a failed write moved nothing";
    qr = pushat(qd, out, 0);
    EXPECT_EQ(qr.qr_ret, ENOTSUP) << "VIRTIO_BLK_S_UNSUPP";
    qr = popat(qd, 0, kSector);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(qr.qr_ret, EMSGSIZE) << "a device that reported too few bytes";
    EXPECT_EQ(live(), base + 1) << "the failed pop's buffer went back to the heap";
    // The failed writes left the sga intact and the app's: the same sga is
    // written on the retry, and the queue is not wedged.
    EXPECT_EQ(bytes(out)[0], 0x77);
    qr = pushat(qd, out, 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_PUSH);
    EXPECT_EQ(qr.qr_ret, 0);
    EXPECT_EQ(m_dev.disk[0], 0x77);
    qr = popat(qd, 0, kSector);
    ASSERT_EQ(qr.qr_ret, 0);
    EXPECT_EQ(bytes(qr.qr_value.sga)[kSector - 1], 0x77);
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    EXPECT_EQ(demi_sgafree(&out), 0);
    EXPECT_EQ(live(), base);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(Storage, FlushIsAPushOfNothing) {
    const int qd = open();
    demi_sgarray_t out = sga(kSector, 3);
    ASSERT_EQ(pushat(qd, out, 0).qr_ret, 0);
    demi_qtoken_t qt = 0;
    demi_qresult_t qr = done(ringlet_demi_flush(&qt, qd), &qt);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_PUSH);
    EXPECT_EQ(qr.qr_ret, 0);
    EXPECT_EQ(qr.qr_value.sga.sga_numsegs, 0u);
    ASSERT_EQ(m_dev.requests.size(), 2u);
    EXPECT_EQ(m_dev.requests[1].kind, FakeBlock::Kind::Flush);
    m_dev.fail_next = {Error::IoError};
    qr = done(ringlet_demi_flush(&qt, qd), &qt);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(qr.qr_ret, EIO);
    EXPECT_EQ(demi_sgafree(&out), 0);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(Storage, ManyInFlightCompleteInDeviceOrder) {
    const int qd = open();
    m_dev.manual = true;
    constexpr int kN = 8;
    demi_sgarray_t sgas[kN];
    demi_qtoken_t qts[kN];
    for (int i = 0; i < kN; ++i) {
        sgas[i] = sga(kSector, static_cast<uint8_t>(i + 1));
        ASSERT_EQ(ringlet_demi_pushat(&qts[i], qd, &sgas[i], uint64_t(i) * kSector), 0);
    }
    demi_qresult_t qr{};
    int at = -1;
    EXPECT_EQ(demi_wait_any(&qr, &at, qts, kN, &kZero), ETIMEDOUT);
    ASSERT_EQ(m_dev.pending(), size_t(kN)) << "all submitted at once";
    // The device finishes them last to first; each wait_any over the tokens
    // still outstanding (in submission order) returns the one just finished.
    for (int i = kN - 1; i >= 0; --i) {
        m_dev.complete(static_cast<size_t>(i));
        ASSERT_EQ(demi_wait_any(&qr, &at, qts, i + 1, nullptr), 0);
        EXPECT_EQ(at, i) << "completed in the order the device finished";
        EXPECT_EQ(qr.qr_opcode, DEMI_OPC_PUSH);
        EXPECT_EQ(qr.qr_value.sga.sga_segs[0].sgaseg_buf, sgas[i].sga_segs[0].sgaseg_buf);
    }
    for (int i = 0; i < kN; ++i) {
        EXPECT_EQ(m_dev.disk[uint64_t(i) * kSector], i + 1);
        EXPECT_EQ(demi_sgafree(&sgas[i]), 0);
    }
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(Storage, CloseCancelsButTheDeviceKeepsItsBuffer) {
    const int qd = open();
    const uint32_t base = live();
    m_dev.manual = true;
    demi_sgarray_t out = sga(kSector, 9);
    demi_qtoken_t push = 0, pop = 0;
    ASSERT_EQ(ringlet_demi_pushat(&push, qd, &out, 0), 0);
    ASSERT_EQ(ringlet_demi_popat(&pop, qd, kSector, kSector), 0);
    demi_qresult_t qr{};
    EXPECT_EQ(demi_wait(&qr, push, &kZero), ETIMEDOUT);
    ASSERT_EQ(m_dev.pending(), 2u);
    EXPECT_EQ(demi_sgafree(&out), 0) << "deferred: the write holds it";
    EXPECT_EQ(demi_close(qd), 0);
    EXPECT_FALSE(m_storage.held);
    ASSERT_EQ(demi_wait(&qr, push, nullptr), 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(qr.qr_ret, ECANCELED);
    ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
    EXPECT_EQ(qr.qr_ret, ECANCELED);
    EXPECT_EQ(live(), base + 2) << "the device still owns both buffers";
    m_dev.complete(0);
    m_dev.complete(1);
    EXPECT_EQ(live(), base) << "freed once the device is done";
    EXPECT_EQ(m_dev.disk[0], 9) << "the data of the cancelled write still reached the disk";
}

TEST_F(Storage, StorageAndNetworkOperationsStayApart) {
    const int disk = open();
    int pipe = -1;
    ASSERT_EQ(demi_create_pipe(&pipe, "p"), 0);
    demi_sgarray_t s = sga(kSector, 4);
    demi_qtoken_t qt = 0;
    EXPECT_EQ(done(demi_push(&qt, disk, &s), &qt).qr_ret, ENOTSUP) << "plain push on a storage queue";
    EXPECT_EQ(done(demi_pop(&qt, disk), &qt).qr_ret, ENOTSUP) << "plain pop on a storage queue";
    EXPECT_EQ(done(ringlet_demi_pushat(&qt, pipe, &s, 0), &qt).qr_ret, ENOTSUP) << "pushat on a pipe";
    EXPECT_EQ(done(ringlet_demi_popat(&qt, pipe, 0, kSector), &qt).qr_ret, ENOTSUP);
    EXPECT_EQ(done(ringlet_demi_flush(&qt, pipe), &qt).qr_ret, ENOTSUP);
    uint64_t bytes = 0;
    EXPECT_EQ(ringlet_demi_blk_capacity(pipe, &bytes), ENOTSUP);
    // Both kinds in one wait.
    demi_qtoken_t qts[2];
    ASSERT_EQ(demi_pop(&qts[0], pipe), 0);
    ASSERT_EQ(ringlet_demi_pushat(&qts[1], disk, &s, 0), 0);
    demi_qresult_t qrs[2];
    ASSERT_EQ(demi_wait_all(qrs, qts, 1 + 1, &kZero), ETIMEDOUT) << "the pipe has nothing yet";
    demi_sgarray_t msg = sga(5, 'x');
    ASSERT_EQ(done(demi_push(&qt, pipe, &msg), &qt).qr_ret, 0);
    ASSERT_EQ(demi_wait_all(qrs, qts, 2, nullptr), 0);
    EXPECT_EQ(qrs[0].qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(qrs[1].qr_opcode, DEMI_OPC_PUSH);
    EXPECT_EQ(demi_sgafree(&qrs[0].qr_value.sga), 0);
    EXPECT_EQ(demi_sgafree(&msg), 0);
    EXPECT_EQ(demi_sgafree(&s), 0);
    EXPECT_EQ(demi_close(pipe), 0);
    EXPECT_EQ(demi_close(disk), 0);
}

}  // namespace
}  // namespace ringlet::test
