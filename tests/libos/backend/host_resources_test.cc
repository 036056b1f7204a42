// Per-core libOS instances on the host (libos/backend/host_resources.cc):
// each thread stands for a core and gets its own LibOs - its own qd space
// (qd / 1024 names the core), DMA heap and executor - so one core's queue
// or buffer used on another is refused, never raced on.
#include <demi/libos.h>
#include <demi/sga.h>
#include <errno.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "libos/pdpix/ringlet_demi.h"

namespace {

struct CoreResult {
    int init = -1;
    int qd = -1;
    demi_sgarray_t sga{};
    int foreign_close = -1;
    int foreign_free = -1;
};

int init_loopback() {
    char prog[] = "test";
    char flag[] = "--backend=loopback";
    char* argv[] = {prog, flag, nullptr};
    demi_args args{};
    args.argc = 2;
    args.argv = argv;
    return demi_init(&args);
}

TEST(HostResources, EachThreadIsACoreWithItsOwnQueuesAndHeap) {
    CoreResult a, b;
    std::atomic<int> stage{0};
    // Core A makes a socket and a buffer, then waits while core B tries them.
    std::thread ta([&] {
        a.init = init_loopback();
        if (a.init == 0) {
            (void)demi_socket(&a.qd, AF_INET, SOCK_DGRAM, 0);
            a.sga = demi_sgaalloc(100);
        }
        stage.store(1);
        while (stage.load() < 2) std::this_thread::yield();
        EXPECT_EQ(demi_sgafree(&a.sga), 0);  // still its own, untouched
        EXPECT_EQ(demi_close(a.qd), 0);
        EXPECT_EQ(ringlet_demi_shutdown(), 0);
    });
    while (stage.load() < 1) std::this_thread::yield();
    std::thread tb([&] {
        b.init = init_loopback();
        if (b.init == 0) {
            (void)demi_socket(&b.qd, AF_INET, SOCK_DGRAM, 0);
            b.foreign_close = demi_close(a.qd);       // another core's queue
            demi_sgarray_t foreign = a.sga;
            b.foreign_free = demi_sgafree(&foreign);  // another core's buffer
            EXPECT_EQ(demi_close(b.qd), 0);
            EXPECT_EQ(ringlet_demi_shutdown(), 0);
        }
    });
    tb.join();
    stage.store(2);
    ta.join();
    ASSERT_EQ(a.init, 0);
    ASSERT_EQ(b.init, 0);
    EXPECT_GE(a.qd, 0);
    EXPECT_GE(b.qd, 0);
    EXPECT_NE(a.qd / 1024, b.qd / 1024);  // each qd names its core
    EXPECT_EQ(b.foreign_close, EXDEV);
    EXPECT_EQ(b.foreign_free, EFAULT);
}

}  // namespace
