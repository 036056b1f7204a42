// End to end: the real loadgen binary against TestEchoServer on 127.0.0.1.
// Runs are bounded by --requests (plus a generous --duration where a dead
// server could otherwise keep a client retrying); nothing asserts on time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/tools/loadgen/test_echo_server.h"

extern char** environ;

namespace ringlet::loadgen::test {
namespace {

struct LoadgenRun {
    int exit_code = -1;
    std::string out;  // stdout: the JSON summary
};

// Runs loadgen with `args` (plus --json --no-progress) and collects stdout.
LoadgenRun run_loadgen(std::vector<std::string> args) {
    args.insert(args.begin(), RINGLET_LOADGEN_BIN);
    args.push_back("--json");
    args.push_back("--no-progress");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int pipefd[2];
    LoadgenRun r;
    if (pipe(pipefd) != 0) return r;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc == 0) {
        char buf[4096];
        ssize_t n;
        while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) r.out.append(buf, static_cast<size_t>(n));
        int status = 0;
        waitpid(pid, &status, 0);
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    close(pipefd[0]);
    return r;
}

// The unsigned number after "key": in the flat JSON summary; -1 if absent.
int64_t field(const std::string& json, const std::string& key) {
    const std::string needle = "\"" + key + "\":";
    const size_t at = json.find(needle);
    if (at == std::string::npos) return -1;
    return std::stoll(json.substr(at + needle.size()));
}

std::vector<std::string> base(const char* proto, uint16_t port, const char* requests) {
    return {"--proto", proto, "--host", "127.0.0.1", "--port", std::to_string(port), "--requests", requests,
            // Far above any loopback round trip even under ASan on a busy
            // machine: the clean runs must not see a timeout.
            "--timeout-ms", "10000"};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

void expect_clean(const LoadgenRun& r, int64_t requests) {
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(field(r.out, "sent"), requests) << r.out;
    EXPECT_EQ(field(r.out, "completed"), requests) << r.out;
    EXPECT_EQ(field(r.out, "errors"), 0) << r.out;
    EXPECT_EQ(field(r.out, "timeouts"), 0) << r.out;
    EXPECT_EQ(field(r.out, "mismatched_bytes"), 0) << r.out;
    EXPECT_NE(r.out.find("\"passed\":true"), std::string::npos) << r.out;
}

TEST(LoadgenEndToEnd, UdpClosedLoopIsClean) {
    TestEchoServer server({});
    ASSERT_TRUE(server.ok());
    expect_clean(run_loadgen(base("udp", server.udp_port(), "2000") + std::vector<std::string>{"--clients", "4"}),
                 2000);
}

TEST(LoadgenEndToEnd, UdpOpenLoopWithSizeMixAndThreadsIsClean) {
    TestEchoServer server({});
    ASSERT_TRUE(server.ok());
    // A modest rate: loopback UDP drops when a busy CI machine deschedules
    // the server, and a drop would be a (correctly reported) timeout.
    expect_clean(run_loadgen(base("udp", server.udp_port(), "1000") +
                             std::vector<std::string>{"--clients", "3", "--threads", "2", "--rate", "5000",
                                                      "--sizes", "16,64,1400"}),
                 1000);
}

TEST(LoadgenEndToEnd, TcpClosedLoopSurvivesEchoCutIntoSmallPieces) {
    // 7-byte sends split headers and payloads across reads in every way.
    TestEchoServer server({.corrupt_offset = -1, .tcp_chunk = 7});
    ASSERT_TRUE(server.ok());
    expect_clean(run_loadgen(base("tcp", server.tcp_port(), "400") +
                             std::vector<std::string>{"--clients", "4", "--sizes", "16-2000"}),
                 400);
}

TEST(LoadgenEndToEnd, TcpOpenLoopPipelinesLargeRequests) {
    TestEchoServer server({});
    ASSERT_TRUE(server.ok());
    // 200 KB requests cannot go out in one send: exercises partial writes.
    expect_clean(run_loadgen(base("tcp", server.tcp_port(), "300") +
                             std::vector<std::string>{"--clients", "2", "--rate", "2000", "--arrival", "fixed",
                                                      "--size", "200000"}),
                 300);
}

TEST(LoadgenEndToEnd, UdpFlippedByteIsReportedAndFails) {
    TestEchoServer server({.corrupt_offset = 20});
    ASSERT_TRUE(server.ok());
    const LoadgenRun r = run_loadgen(base("udp", server.udp_port(), "100"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(field(r.out, "mismatched_bytes"), 1) << r.out;
    EXPECT_EQ(field(r.out, "mismatched_responses"), 1) << r.out;
    EXPECT_EQ(field(r.out, "completed"), 99) << r.out;
    EXPECT_NE(r.out.find("\"passed\":false"), std::string::npos) << r.out;
}

TEST(LoadgenEndToEnd, TcpFlippedByteIsReportedAndFails) {
    TestEchoServer server({.corrupt_offset = 20, .tcp_chunk = 5});
    ASSERT_TRUE(server.ok());
    const LoadgenRun r = run_loadgen(base("tcp", server.tcp_port(), "100"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(field(r.out, "mismatched_bytes"), 1) << r.out;
    EXPECT_EQ(field(r.out, "mismatched_responses"), 1) << r.out;
    EXPECT_EQ(field(r.out, "completed"), 99) << r.out;
}

// A port nobody listens on: bind one, note it, close it.
uint16_t dead_port(int type) {
    const int fd = socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

TEST(LoadgenEndToEnd, UdpWithoutServerReportsTimeoutsAndFails) {
    const LoadgenRun r = run_loadgen({"--proto", "udp", "--port", std::to_string(dead_port(SOCK_DGRAM)), "--requests", "3",
                               "--timeout-ms", "50"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(field(r.out, "completed"), 0) << r.out;
    EXPECT_EQ(field(r.out, "timeouts"), 3) << r.out;
}

TEST(LoadgenEndToEnd, TcpWithoutServerReportsErrorsAndFails) {
    const LoadgenRun r = run_loadgen({"--proto", "tcp", "--port", std::to_string(dead_port(SOCK_STREAM)), "--requests",
                               "3", "--duration", "0.3"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(field(r.out, "completed"), 0) << r.out;
    EXPECT_GT(field(r.out, "errors"), 0) << r.out;
    EXPECT_NE(r.out.find("Connection refused"), std::string::npos) << r.out;
}

TEST(LoadgenEndToEnd, TcpBoundOnlyByRequestsGivesUpOnADeadServer) {
    // No --duration: without giving up, a closed loop would redial forever.
    const LoadgenRun r = run_loadgen({"--proto", "tcp", "--port", std::to_string(dead_port(SOCK_STREAM)),
                                      "--requests", "5", "--clients", "2"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(field(r.out, "completed"), 0) << r.out;
    EXPECT_NE(r.out.find("giving up after"), std::string::npos) << r.out;
}

TEST(LoadgenEndToEnd, BadUsageExitsTwo) {
    EXPECT_EQ(run_loadgen({"--clients", "0"}).exit_code, 2);
}

}  // namespace
}  // namespace ringlet::loadgen::test
