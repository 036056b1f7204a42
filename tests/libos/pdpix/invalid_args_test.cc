// Every demi_* function with invalid arguments returns a clear errno (and
// never crashes), before and after demi_init.
#include <errno.h>

#include "tests/libos/pdpix/demi_fixture.h"

namespace ringlet::test {
namespace {

TEST(DemiBeforeInit, EverythingIsEnosys) {
    int qd = 0;
    demi_qtoken_t qt = 0;
    demi_qresult_t qr{};
    demi_sgarray_t sga{};
    sockaddr_in a{};
    socklen_t len = sizeof a;
    int off = 0, n = 0;
    EXPECT_EQ(demi_create_pipe(&qd, "p"), ENOSYS);
    EXPECT_EQ(demi_open_pipe(&qd, "p"), ENOSYS);
    EXPECT_EQ(demi_socket(&qd, AF_INET, SOCK_DGRAM, 0), ENOSYS);
    EXPECT_EQ(demi_listen(0, 1), ENOSYS);
    EXPECT_EQ(demi_bind(0, reinterpret_cast<sockaddr*>(&a), sizeof a), ENOSYS);
    EXPECT_EQ(demi_accept(&qt, 0), ENOSYS);
    EXPECT_EQ(demi_connect(&qt, 0, reinterpret_cast<sockaddr*>(&a), sizeof a), ENOSYS);
    EXPECT_EQ(demi_close(0), ENOSYS);
    EXPECT_EQ(demi_push(&qt, 0, &sga), ENOSYS);
    EXPECT_EQ(demi_pushto(&qt, 0, &sga, reinterpret_cast<sockaddr*>(&a), sizeof a), ENOSYS);
    EXPECT_EQ(demi_pop(&qt, 0), ENOSYS);
    EXPECT_EQ(demi_setsockopt(0, SOL_SOCKET, SO_REUSEADDR, &n, sizeof n), ENOSYS);
    EXPECT_EQ(demi_getsockopt(0, SOL_SOCKET, SO_REUSEADDR, &n, &len), ENOSYS);
    EXPECT_EQ(demi_getpeername(0, reinterpret_cast<sockaddr*>(&a), &len), ENOSYS);
    EXPECT_EQ(demi_sgafree(&sga), ENOSYS);
    EXPECT_EQ(demi_sgaalloc(10).sga_numsegs, 0u);
    EXPECT_EQ(demi_wait(&qr, 1, nullptr), ENOSYS);
    EXPECT_EQ(demi_wait_any(&qr, &off, &qt, 1, nullptr), ENOSYS);
    EXPECT_EQ(demi_wait_next_n(&qr, 1, &n, nullptr), ENOSYS);
    EXPECT_EQ(demi_wait_all(&qr, &qt, 1, nullptr), ENOSYS);
    EXPECT_EQ(ringlet_demi_shutdown(), ENOSYS);
}

TEST(DemiInit, BadArguments) {
    EXPECT_EQ(demi_init(nullptr), EINVAL);
    char a0[] = "x";
    char a1[] = "--backend=nonsense";
    char* argv[] = {a0, a1, nullptr};
    demi_args args{};
    args.argc = 2;
    args.argv = argv;
    EXPECT_EQ(demi_init(&args), EINVAL);
    args.argc = -1;
    EXPECT_EQ(demi_init(&args), EINVAL);
}

using DemiInvalid = DemiTest;

TEST_F(DemiInvalid, InitTwiceIsEexist) {
    demi_args args{};
    EXPECT_EQ(demi_init(&args), EEXIST);
}

TEST_F(DemiInvalid, QueueCalls) {
    int qd = 0;
    demi_qtoken_t qt = 0;
    sockaddr_in a = addr(1234);
    socklen_t len = sizeof a;
    int v = 1;
    EXPECT_EQ(demi_socket(nullptr, AF_INET, SOCK_DGRAM, 0), EINVAL);
    EXPECT_EQ(demi_socket(&qd, AF_UNIX, SOCK_DGRAM, 0), ENOTSUP);
    EXPECT_EQ(demi_socket(&qd, AF_INET, SOCK_RAW, 0), ENOTSUP);
    EXPECT_EQ(demi_create_pipe(nullptr, "p"), EINVAL);
    EXPECT_EQ(demi_create_pipe(&qd, nullptr), EINVAL);
    EXPECT_EQ(demi_create_pipe(&qd, ""), EINVAL);
    EXPECT_EQ(demi_open_pipe(&qd, "no-such-pipe"), ENOENT);
    EXPECT_EQ(demi_open_pipe(nullptr, "p"), EINVAL);
    for (int bad : {-1, 999, 1 << 20}) {
        EXPECT_EQ(demi_listen(bad, 1), EBADF);
        EXPECT_EQ(demi_bind(bad, sa(a), sizeof a), EBADF);
        EXPECT_EQ(demi_accept(&qt, bad), EBADF);
        EXPECT_EQ(demi_connect(&qt, bad, sa(a), sizeof a), EBADF);
        EXPECT_EQ(demi_close(bad), EBADF);
        EXPECT_EQ(demi_pop(&qt, bad), EBADF);
        EXPECT_EQ(demi_setsockopt(bad, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), EBADF);
        EXPECT_EQ(demi_getsockopt(bad, SOL_SOCKET, SO_REUSEADDR, &v, &len), EBADF);
        EXPECT_EQ(demi_getpeername(bad, reinterpret_cast<sockaddr*>(&a), &len), EBADF);
    }
    ASSERT_EQ(demi_socket(&qd, AF_INET, SOCK_DGRAM, 0), 0);
    EXPECT_EQ(demi_bind(qd, nullptr, sizeof a), EINVAL);
    EXPECT_EQ(demi_bind(qd, sa(a), 3), EINVAL);
    sockaddr_in six = a;
    six.sin_family = AF_INET6;
    EXPECT_EQ(demi_bind(qd, sa(six), sizeof six), ENOTSUP);
    EXPECT_EQ(demi_listen(qd, -5), EINVAL);
    EXPECT_EQ(demi_listen(qd, 5), EINVAL) << "unbound UDP cannot listen";
    EXPECT_EQ(demi_accept(nullptr, qd), EINVAL);
    EXPECT_EQ(demi_pop(nullptr, qd), EINVAL);
    EXPECT_EQ(demi_connect(nullptr, qd, sa(a), sizeof a), EINVAL);
    EXPECT_EQ(demi_connect(&qt, qd, nullptr, sizeof a), EINVAL);
    EXPECT_EQ(demi_setsockopt(qd, SOL_SOCKET, SO_REUSEADDR, nullptr, 4), EINVAL);
    EXPECT_EQ(demi_getsockopt(qd, SOL_SOCKET, SO_REUSEADDR, nullptr, &len), EINVAL);
    EXPECT_EQ(demi_getpeername(qd, nullptr, &len), EINVAL);
    EXPECT_EQ(demi_close(qd), 0);
    EXPECT_EQ(demi_close(qd), EBADF) << "closed twice";
}

TEST_F(DemiInvalid, PushCalls) {
    int qd = 0;
    demi_qtoken_t qt = 0;
    ASSERT_EQ(demi_create_pipe(&qd, "push-args"), 0);
    demi_sgarray_t good = sga_of("data");
    ASSERT_EQ(good.sga_numsegs, 1u);
    EXPECT_EQ(demi_push(nullptr, qd, &good), EINVAL);
    EXPECT_EQ(demi_push(&qt, qd, nullptr), EINVAL);
    EXPECT_EQ(demi_push(&qt, 12345, &good), EBADF);
    demi_sgarray_t zero_segs = good;
    zero_segs.sga_numsegs = 0;
    EXPECT_EQ(demi_push(&qt, qd, &zero_segs), EINVAL);
    demi_sgarray_t too_long = good;
    too_long.sga_segs[0].sgaseg_len = 1 << 30;
    EXPECT_EQ(demi_push(&qt, qd, &too_long), EINVAL);
    demi_sgarray_t empty = good;
    empty.sga_segs[0].sgaseg_len = 0;
    EXPECT_EQ(demi_push(&qt, qd, &empty), EINVAL);
    char foreign[64];
    demi_sgarray_t alien = good;
    alien.sga_segs[0].sgaseg_buf = foreign;
    EXPECT_EQ(demi_push(&qt, qd, &alien), EFAULT);
    sockaddr_in a = addr(1);
    EXPECT_EQ(demi_pushto(&qt, qd, &good, nullptr, sizeof a), EINVAL);
    EXPECT_EQ(demi_pushto(nullptr, qd, &good, sa(a), sizeof a), EINVAL);
    EXPECT_EQ(demi_pushto(&qt, qd, &good, sa(a), 2), EINVAL);
    // Pushing a freed sga.
    ASSERT_EQ(demi_sgafree(&good), 0);
    EXPECT_EQ(demi_push(&qt, qd, &good), EINVAL);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(DemiInvalid, SgaCalls) {
    EXPECT_EQ(demi_sgaalloc(0).sga_numsegs, 0u);
    EXPECT_EQ(demi_sgaalloc(size_t{1} << 40).sga_numsegs, 0u);
    EXPECT_EQ(demi_sgafree(nullptr), EINVAL);
    demi_sgarray_t s = demi_sgaalloc(10);
    ASSERT_EQ(s.sga_numsegs, 1u);
    demi_sgarray_t bad = s;
    bad.sga_numsegs = 2;
    EXPECT_EQ(demi_sgafree(&bad), EINVAL);
    char foreign[16];
    bad = s;
    bad.sga_segs[0].sgaseg_buf = foreign;
    EXPECT_EQ(demi_sgafree(&bad), EFAULT);
    EXPECT_EQ(demi_sgafree(&s), 0);
    EXPECT_EQ(demi_sgafree(&s), EINVAL) << "double free";
}

TEST_F(DemiInvalid, WaitCalls) {
    demi_qresult_t qr{};
    demi_qtoken_t qts[2] = {0, 0};
    int off = 0, n = 0;
    const timespec bad_ts{0, 2'000'000'000};
    EXPECT_EQ(demi_wait(nullptr, 1, &kZero), EINVAL);
    EXPECT_EQ(demi_wait(&qr, 0, &kZero), EINVAL) << "malformed token";
    EXPECT_EQ(demi_wait(&qr, ~0ull, &kZero), EINVAL);
    int qd = 0;
    ASSERT_EQ(demi_create_pipe(&qd, "wait-args"), 0);
    ASSERT_EQ(demi_pop(&qts[0], qd), 0);
    EXPECT_EQ(demi_wait(&qr, qts[0], &bad_ts), EINVAL);
    EXPECT_EQ(demi_wait_any(nullptr, &off, qts, 1, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_any(&qr, nullptr, qts, 1, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_any(&qr, &off, nullptr, 1, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_any(&qr, &off, qts, 0, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_any(&qr, &off, qts, -3, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_all(nullptr, qts, 1, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_all(&qr, nullptr, 1, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_all(&qr, qts, 0, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_next_n(nullptr, 1, &n, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_next_n(&qr, 0, &n, &kZero), EINVAL);
    EXPECT_EQ(demi_wait_next_n(&qr, 1, nullptr, &kZero), EINVAL);
    // The same token twice in one wait set: EALREADY, and nothing is consumed.
    qts[1] = qts[0];
    EXPECT_EQ(demi_wait_any(&qr, &off, qts, 2, &kZero), EALREADY);
    demi_qresult_t two[2];
    EXPECT_EQ(demi_wait_all(two, qts, 2, &kZero), EALREADY);
    EXPECT_EQ(demi_wait(&qr, qts[0], &kZero), ETIMEDOUT) << "token still valid";
    EXPECT_EQ(demi_close(qd), 0);
}

}  // namespace
}  // namespace ringlet::test
