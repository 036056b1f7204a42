// SGA ownership: alloc gives the app a buffer; push holds it until done;
// freeing while in flight defers; pop hands the app a buffer it must free.
#include <errno.h>

#include "libos/pdpix/libos.h"
#include "tests/libos/pdpix/demi_fixture.h"

namespace ringlet::test {
namespace {

using DemiSga = DemiTest;

uint32_t live_buffers() { return pdpix::LibOs::instance()->heap().live(); }

TEST_F(DemiSga, FreeDuringPushIsDeferred) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "sga"), 0);
    const uint32_t base = live_buffers();
    demi_sgarray_t s = sga_of("payload");
    demi_qtoken_t qt = 0;
    ASSERT_EQ(demi_push(&qt, qd, &s), 0);
    ASSERT_EQ(demi_sgafree(&s), 0);
    EXPECT_EQ(live_buffers(), base + 1) << "the push still holds the buffer";
    EXPECT_EQ(demi_sgafree(&s), EINVAL) << "double free is reported even while in flight";
    EXPECT_EQ(demi_push(&qt, qd, &s), EINVAL) << "a freed sga cannot be pushed";
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, qt, nullptr), 0);
    // The pipe now holds a copy (the "device" received it); the original is gone.
    EXPECT_EQ(live_buffers(), base + 1);
    demi_qtoken_t pop = 0;
    ASSERT_EQ(demi_pop(&pop, qd), 0);
    ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
    EXPECT_EQ(text_of(qr.qr_value.sga), "payload");
    EXPECT_EQ(live_buffers(), base + 1) << "popped buffer belongs to the app";
    ASSERT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    EXPECT_EQ(live_buffers(), base);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(DemiSga, PushedBufferStaysUsableByTheApp) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "reuse"), 0);
    demi_sgarray_t s = sga_of("abc");
    demi_qtoken_t qt = 0;
    ASSERT_EQ(demi_push(&qt, qd, &s), 0);
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, qt, nullptr), 0);
    EXPECT_EQ(qr.qr_value.sga.sga_segs[0].sgaseg_buf, s.sga_segs[0].sgaseg_buf);
    ASSERT_EQ(demi_push(&qt, qd, &s), 0) << "not freed: the app may push it again";
    ASSERT_EQ(demi_wait(&qr, qt, nullptr), 0);
    EXPECT_EQ(demi_sgafree(&s), 0);
    EXPECT_EQ(demi_close(qd), 0);  // drains the two queued copies
}

TEST_F(DemiSga, CloseWithQueuedAndInFlightBuffersLeaksNothing) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "leak"), 0);
    const uint32_t base = live_buffers();
    for (int i = 0; i < 10; ++i) {
        demi_sgarray_t s = sga_of("x");
        demi_qtoken_t qt = 0;
        ASSERT_EQ(demi_push(&qt, qd, &s), 0);
        ASSERT_EQ(demi_sgafree(&s), 0);
    }
    ASSERT_EQ(demi_close(qd), 0);  // cancels the pushes: their references drop
    EXPECT_EQ(live_buffers(), base);
    demi_qresult_t out[10];
    int n = 0;
    ASSERT_EQ(demi_wait_next_n(out, 10, &n, &kZero), 0);
    EXPECT_EQ(n, 10);
    for (int i = 0; i < n; ++i) EXPECT_EQ(out[i].qr_ret, ECANCELED);
}

}  // namespace
}  // namespace ringlet::test
