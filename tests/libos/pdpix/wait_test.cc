// demi_wait, demi_wait_any, demi_wait_all, demi_wait_next_n on the loopback
// backend, with and without timeouts; token generations; close cancels.
#include <errno.h>

#include <set>
#include <string>

#include "tests/libos/pdpix/demi_fixture.h"

namespace ringlet::test {
namespace {

using DemiWait = DemiTest;

// Pushes `text` on qd and returns the push token.
demi_qtoken_t push_text(int qd, const char* text) {
    demi_sgarray_t s = DemiTest::sga_of(text);
    demi_qtoken_t qt = 0;
    EXPECT_EQ(demi_push(&qt, qd, &s), 0);
    EXPECT_EQ(demi_sgafree(&s), 0);  // deferred until the push is done
    return qt;
}

TEST_F(DemiWait, PushThenPopThroughAPipe) {
    int a = -1, b = -1;
    ASSERT_EQ(demi_create_pipe(&a, "pp"), 0);
    ASSERT_EQ(demi_open_pipe(&b, "pp"), 0);
    EXPECT_NE(a, b);
    demi_qtoken_t pop = 0;
    ASSERT_EQ(demi_pop(&pop, b), 0);
    demi_qtoken_t push = push_text(a, "hello pipe");
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, push, nullptr), 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_PUSH);
    EXPECT_EQ(qr.qr_qd, a);
    EXPECT_EQ(qr.qr_qt, push);
    EXPECT_EQ(qr.qr_ret, 0);
    ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(qr.qr_qd, b);
    EXPECT_EQ(text_of(qr.qr_value.sga), "hello pipe");
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    EXPECT_EQ(demi_close(a), 0);
    EXPECT_EQ(demi_close(b), 0);
}

TEST_F(DemiWait, TimeoutLeavesTheTokenValid) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "t"), 0);
    demi_qtoken_t pop = 0;
    ASSERT_EQ(demi_pop(&pop, qd), 0);
    demi_qresult_t qr{};
    EXPECT_EQ(demi_wait(&qr, pop, &kZero), ETIMEDOUT);
    EXPECT_EQ(demi_wait(&qr, pop, &kShort), ETIMEDOUT);
    demi_qtoken_t push = push_text(qd, "late");
    ASSERT_EQ(demi_wait(&qr, pop, &kShort), 0) << "the same token completes later";
    EXPECT_EQ(text_of(qr.qr_value.sga), "late");
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    ASSERT_EQ(demi_wait(&qr, push, nullptr), 0);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(DemiWait, ConsumedTokenIsStaleNotAWrongResult) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "stale"), 0);
    demi_qtoken_t first = push_text(qd, "one");
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, first, nullptr), 0);
    EXPECT_EQ(demi_wait(&qr, first, &kZero), ESTALE) << "double wait";
    // The op slot is reused by the next operation; the old token must not
    // alias it.
    demi_qtoken_t second = push_text(qd, "two");
    EXPECT_NE(second, first);
    EXPECT_EQ(demi_wait(&qr, first, &kZero), ESTALE);
    ASSERT_EQ(demi_wait(&qr, second, nullptr), 0);
    EXPECT_EQ(qr.qr_qt, second);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(DemiWait, WaitAnyReturnsTheCompletedOne) {
    int a = -1, b = -1;
    ASSERT_EQ(demi_create_pipe(&a, "any-a"), 0);
    ASSERT_EQ(demi_create_pipe(&b, "any-b"), 0);
    demi_qtoken_t qts[2];
    ASSERT_EQ(demi_pop(&qts[0], a), 0);
    ASSERT_EQ(demi_pop(&qts[1], b), 0);
    demi_qresult_t qr{};
    int off = -1;
    EXPECT_EQ(demi_wait_any(&qr, &off, qts, 2, &kShort), ETIMEDOUT);
    demi_qtoken_t push = push_text(b, "to b");
    ASSERT_EQ(demi_wait_any(&qr, &off, qts, 2, nullptr), 0);
    EXPECT_EQ(off, 1);
    EXPECT_EQ(qr.qr_qd, b);
    EXPECT_EQ(text_of(qr.qr_value.sga), "to b");
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    EXPECT_EQ(demi_wait(&qr, qts[1], &kZero), ESTALE);
    EXPECT_EQ(demi_wait(&qr, qts[0], &kZero), ETIMEDOUT) << "the other token is untouched";
    ASSERT_EQ(demi_wait(&qr, push, nullptr), 0);
    EXPECT_EQ(demi_close(a), 0);  // cancels qts[0]
    EXPECT_EQ(demi_close(b), 0);
}

TEST_F(DemiWait, WaitAllWaitsForEveryToken) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "all"), 0);
    demi_qtoken_t pops[3];
    for (auto& p : pops) ASSERT_EQ(demi_pop(&p, qd), 0);
    demi_qresult_t out[3];
    demi_qtoken_t p1 = push_text(qd, "x");
    EXPECT_EQ(demi_wait_all(out, pops, 3, &kShort), ETIMEDOUT) << "only one of three can complete";
    demi_qtoken_t p2 = push_text(qd, "y");
    demi_qtoken_t p3 = push_text(qd, "z");
    ASSERT_EQ(demi_wait_all(out, pops, 3, nullptr), 0);
    std::set<std::string> got;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(out[i].qr_qt, pops[i]);
        EXPECT_EQ(out[i].qr_opcode, DEMI_OPC_POP);
        got.insert(text_of(out[i].qr_value.sga));
        EXPECT_EQ(demi_sgafree(&out[i].qr_value.sga), 0);
    }
    EXPECT_EQ(got, (std::set<std::string>{"x", "y", "z"}));
    demi_qtoken_t pushes[3] = {p1, p2, p3};
    ASSERT_EQ(demi_wait_all(out, pushes, 3, &kShort), 0);
    EXPECT_EQ(demi_close(qd), 0);
}

TEST_F(DemiWait, WaitNextNReturnsCompletionsInOrder) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "next"), 0);
    demi_qresult_t out[8];
    int n = -1;
    EXPECT_EQ(demi_wait_next_n(out, 8, &n, &kShort), ETIMEDOUT);
    EXPECT_EQ(n, 0);
    demi_qtoken_t a = push_text(qd, "1");
    demi_qtoken_t b = push_text(qd, "2");
    demi_qtoken_t c = push_text(qd, "3");
    ASSERT_EQ(demi_wait_next_n(out, 2, &n, nullptr), 0);
    ASSERT_EQ(n, 2);
    EXPECT_EQ(out[0].qr_qt, a);
    EXPECT_EQ(out[1].qr_qt, b);
    ASSERT_EQ(demi_wait_next_n(out, 8, &n, nullptr), 0);
    ASSERT_EQ(n, 1);
    EXPECT_EQ(out[0].qr_qt, c);
    // Drain the three messages with pops.
    for (const char* want : {"1", "2", "3"}) {
        demi_qtoken_t pop = 0;
        ASSERT_EQ(demi_pop(&pop, qd), 0);
        demi_qresult_t qr{};
        ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
        EXPECT_EQ(text_of(qr.qr_value.sga), want);
        EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    }
    EXPECT_EQ(demi_close(qd), 0);
}

// The done list (what wait_next_n walks) stays in completion order when a
// result in its middle or at its ends is taken by demi_wait or wait_any
// instead, and a closed queue's cancelled operations come out after what
// completed before the close.
TEST_F(DemiWait, WaitNextNAfterResultsTakenOutOfOrder) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "order"), 0);
    demi_qtoken_t t[6];
    for (int i = 0; i < 6; ++i) t[i] = push_text(qd, std::to_string(i).c_str());
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, t[2], nullptr), 0);  // the middle
    ASSERT_EQ(demi_wait(&qr, t[0], nullptr), 0);  // the head
    ASSERT_EQ(demi_wait(&qr, t[5], nullptr), 0);  // the tail
    int at = -1;
    demi_qtoken_t four[1] = {t[4]};
    ASSERT_EQ(demi_wait_any(&qr, &at, four, 1, nullptr), 0);
    EXPECT_EQ(qr.qr_qt, t[4]);
    demi_qtoken_t pop = 0;
    ASSERT_EQ(demi_pop(&pop, qd), 0);  // "0" is queued: done once its task runs
    demi_qresult_t out[8];
    int n = -1;
    ASSERT_EQ(demi_wait_next_n(out, 8, &n, &kShort), 0);
    ASSERT_EQ(n, 2);  // what was done already; the executor did not run
    EXPECT_EQ(out[0].qr_qt, t[1]);
    EXPECT_EQ(out[1].qr_qt, t[3]);
    ASSERT_EQ(demi_wait_next_n(out, 8, &n, &kShort), 0);
    ASSERT_EQ(n, 1);
    EXPECT_EQ(out[0].qr_qt, pop);
    EXPECT_EQ(text_of(out[0].qr_value.sga), "0");
    EXPECT_EQ(demi_sgafree(&out[0].qr_value.sga), 0);
    // Consumed: nothing is left, and the tokens are stale.
    EXPECT_EQ(demi_wait_next_n(out, 8, &n, &kZero), ETIMEDOUT);
    EXPECT_EQ(demi_wait(&qr, t[1], &kZero), ESTALE);
    // Pops still pending when the queue closes come out cancelled (in the
    // order close() meets them).
    demi_qtoken_t p1 = 0, p2 = 0;
    for (int i = 0; i < 5; ++i) {  // drain "1".."5"
        ASSERT_EQ(demi_pop(&p1, qd), 0);
        ASSERT_EQ(demi_wait(&qr, p1, nullptr), 0);
        EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    }
    ASSERT_EQ(demi_pop(&p1, qd), 0);
    ASSERT_EQ(demi_pop(&p2, qd), 0);
    EXPECT_EQ(demi_close(qd), 0);
    ASSERT_EQ(demi_wait_next_n(out, 8, &n, &kZero), 0);
    ASSERT_EQ(n, 2);
    EXPECT_EQ((std::set<demi_qtoken_t>{out[0].qr_qt, out[1].qr_qt}), (std::set<demi_qtoken_t>{p1, p2}));
    EXPECT_EQ(out[0].qr_ret, ECANCELED);
    EXPECT_EQ(out[1].qr_ret, ECANCELED);
}

TEST_F(DemiWait, CloseCancelsPendingOperations) {
    int qd = -1;
    ASSERT_EQ(demi_create_pipe(&qd, "cancel"), 0);
    demi_qtoken_t pops[4];
    for (auto& p : pops) ASSERT_EQ(demi_pop(&p, qd), 0);
    ASSERT_EQ(demi_close(qd), 0);
    demi_qresult_t out[4];
    ASSERT_EQ(demi_wait_all(out, pops, 4, &kZero), 0);
    for (const auto& r : out) {
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
        EXPECT_EQ(r.qr_ret, ECANCELED);
        EXPECT_EQ(r.qr_qd, qd);
    }
}

TEST_F(DemiWait, UdpDatagramsCarryTheirSource) {
    int srv = -1, cli = -1;
    ASSERT_EQ(demi_socket(&srv, AF_INET, SOCK_DGRAM, 0), 0);
    ASSERT_EQ(demi_socket(&cli, AF_INET, SOCK_DGRAM, 0), 0);
    const sockaddr_in s = addr(7000), c = addr(7001);
    ASSERT_EQ(demi_bind(srv, sa(s), sizeof s), 0);
    ASSERT_EQ(demi_bind(cli, sa(c), sizeof c), 0);
    EXPECT_EQ(demi_bind(cli, sa(s), sizeof s), EINVAL) << "bound twice";
    demi_qtoken_t pop = 0, push = 0;
    ASSERT_EQ(demi_pop(&pop, srv), 0);
    demi_sgarray_t msg = sga_of("ping");
    ASSERT_EQ(demi_pushto(&push, cli, &msg, sa(s), sizeof s), 0);
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
    EXPECT_EQ(text_of(qr.qr_value.sga), "ping");
    EXPECT_EQ(ntohs(qr.qr_value.sga.sga_addr.sin_port), 7001);
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    ASSERT_EQ(demi_wait(&qr, push, nullptr), 0);
    EXPECT_EQ(demi_sgafree(&msg), 0);
    EXPECT_EQ(demi_close(srv), 0);
    EXPECT_EQ(demi_close(cli), 0);
}

TEST_F(DemiWait, TcpAcceptConnectEchoAndEof) {
    int lst = -1, cli = -1;
    ASSERT_EQ(demi_socket(&lst, AF_INET, SOCK_STREAM, 0), 0);
    ASSERT_EQ(demi_socket(&cli, AF_INET, SOCK_STREAM, 0), 0);
    const sockaddr_in s = addr(8000);
    ASSERT_EQ(demi_bind(lst, sa(s), sizeof s), 0);
    ASSERT_EQ(demi_listen(lst, 8), 0);
    demi_qtoken_t acc = 0, con = 0;
    ASSERT_EQ(demi_accept(&acc, lst), 0);
    ASSERT_EQ(demi_connect(&con, cli, sa(s), sizeof s), 0);
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, con, nullptr), 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_CONNECT);
    ASSERT_EQ(demi_wait(&qr, acc, nullptr), 0);
    ASSERT_EQ(qr.qr_opcode, DEMI_OPC_ACCEPT);
    const int conn = qr.qr_value.ares.qd;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    ASSERT_EQ(demi_getpeername(conn, reinterpret_cast<sockaddr*>(&peer), &len), 0);
    EXPECT_EQ(peer.sin_port, qr.qr_value.ares.addr.sin_port);
    demi_qtoken_t push = push_text(cli, "stream");
    demi_qtoken_t pop = 0;
    ASSERT_EQ(demi_pop(&pop, conn), 0);
    ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
    EXPECT_EQ(text_of(qr.qr_value.sga), "stream");
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    ASSERT_EQ(demi_wait(&qr, push, nullptr), 0);
    // Client closes first: the server's pop sees end of stream.
    ASSERT_EQ(demi_pop(&pop, conn), 0);
    ASSERT_EQ(demi_close(cli), 0);
    ASSERT_EQ(demi_wait(&qr, pop, nullptr), 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(qr.qr_value.sga.sga_segs[0].sgaseg_len, 0u);
    EXPECT_EQ(demi_sgafree(&qr.qr_value.sga), 0);
    EXPECT_EQ(demi_close(conn), 0);
    EXPECT_EQ(demi_close(lst), 0);
}

TEST_F(DemiWait, ConnectToNobodyFails) {
    int cli = -1;
    ASSERT_EQ(demi_socket(&cli, AF_INET, SOCK_STREAM, 0), 0);
    const sockaddr_in s = addr(9999);
    demi_qtoken_t con = 0;
    ASSERT_EQ(demi_connect(&con, cli, sa(s), sizeof s), 0);
    demi_qresult_t qr{};
    ASSERT_EQ(demi_wait(&qr, con, nullptr), 0);
    EXPECT_EQ(qr.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_NE(qr.qr_ret, 0);
    EXPECT_EQ(demi_close(cli), 0);
}

}  // namespace
}  // namespace ringlet::test
