// user/echo on the Linux backend, driven by real clients: plain sockets in
// this process, and nc / socat. 127.0.0.1 only; bounded loops; no timing
// assertions (timeouts only stop a hung test).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// A port nobody uses right now (the kernel picks it; tiny reuse race only).
uint16_t free_port(int type) {
    const int fd = socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// Connects to the server, retrying while it starts (bounded).
int connect_tcp(uint16_t port) {
    for (int attempt = 0; attempt < 500; ++attempt) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        const sockaddr_in a = loopback(port);
        if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) return fd;
        close(fd);
        usleep(10'000);
    }
    return -1;
}

bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

bool write_all(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// Reads exactly n bytes (a 10 s poll per read only guards against hangs).
bool read_all(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
        if (!wait_readable(fd, 10'000)) return false;
        const ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

class EchoServer {
public:
    explicit EchoServer(std::vector<std::string> args) {
        m_pid = fork();
        if (m_pid == 0) {
            std::vector<char*> argv;
            static char bin[] = RINGLET_ECHO_BIN;
            argv.push_back(bin);
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            setenv("RINGLET_BACKEND", "linux", 1);
            execv(bin, argv.data());
            _exit(127);
        }
    }
    ~EchoServer() {
        if (m_pid > 0) {
            kill(m_pid, SIGTERM);
            int st = 0;
            waitpid(m_pid, &st, 0);
        }
    }
    // True while the server process has not exited.
    bool running() const { return m_pid > 0 && waitpid(m_pid, nullptr, WNOHANG) == 0; }

private:
    pid_t m_pid = -1;
};

// Sends `rounds` messages of `size` bytes and checks every echoed byte.
bool tcp_ping_pong(uint16_t port, size_t size, int rounds, uint8_t seed) {
    const int fd = connect_tcp(port);
    if (fd < 0) return false;
    std::vector<uint8_t> out(size), in(size);
    bool ok = true;
    for (int r = 0; r < rounds && ok; ++r) {
        for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(seed + r * 31 + i * 7);
        ok = write_all(fd, out.data(), size) && read_all(fd, in.data(), size) && in == out;
    }
    close(fd);  // the client closes first
    return ok;
}

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
}

TEST(Echo, UdpPingPong) {
    const uint16_t port = free_port(SOCK_DGRAM);
    EchoServer srv({"--udp", std::to_string(port)});
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    const sockaddr_in a = loopback(port);
    int answered = 0;
    for (int i = 0; i < 50 && answered < 20; ++i) {
        char msg[64];
        const int n = snprintf(msg, sizeof msg, "datagram %d", i);
        sendto(fd, msg, static_cast<size_t>(n), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        // The server may still be starting: a lost datagram is retried.
        if (!wait_readable(fd, 200)) continue;
        char back[64];
        const ssize_t r = recv(fd, back, sizeof back, 0);
        ASSERT_EQ(r, n);
        EXPECT_EQ(std::memcmp(back, msg, static_cast<size_t>(n)), 0);
        ++answered;
    }
    close(fd);
    EXPECT_EQ(answered, 20);
}

TEST(Echo, TcpPingPong64And1K) {
    const uint16_t port = free_port(SOCK_STREAM);
    EchoServer srv({"--tcp", std::to_string(port)});
    EXPECT_TRUE(tcp_ping_pong(port, 64, 100, 1));
    EXPECT_TRUE(tcp_ping_pong(port, 1024, 100, 2));
    EXPECT_TRUE(tcp_ping_pong(port, 64 * 1024, 4, 3)) << "larger than one pop: split and rejoined";
    EXPECT_TRUE(srv.running());
}

TEST(Echo, ThirtyTwoConcurrentTcpClients) {
    const uint16_t port = free_port(SOCK_STREAM);
    EchoServer srv({"--tcp", std::to_string(port)});
    ASSERT_GE(connect_tcp(port), 0);  // server is up (this client closes at exit)
    std::vector<int> ok(32, 0);
    std::vector<std::thread> clients;
    for (int c = 0; c < 32; ++c) {
        clients.emplace_back([&, c] {
            const size_t size = (c % 2 == 0) ? 64 : 1024;
            ok[c] = tcp_ping_pong(port, size, 50, static_cast<uint8_t>(c)) ? 1 : 0;
        });
    }
    for (auto& t : clients) t.join();
    for (int c = 0; c < 32; ++c) EXPECT_EQ(ok[c], 1) << "client " << c;
    EXPECT_TRUE(srv.running()) << "clients closing first must not hurt the server";
}

TEST(Echo, ServerClosesFirst) {
    const uint16_t port = free_port(SOCK_STREAM);
    EchoServer srv({"--tcp", std::to_string(port), "--close-after", "3"});
    const int fd = connect_tcp(port);
    ASSERT_GE(fd, 0);
    uint8_t buf[64];
    for (int i = 0; i < 3; ++i) {
        std::memset(buf, 'a' + i, sizeof buf);
        ASSERT_TRUE(write_all(fd, buf, sizeof buf));
        uint8_t back[64];
        ASSERT_TRUE(read_all(fd, back, sizeof back));
        EXPECT_EQ(std::memcmp(back, buf, sizeof buf), 0);
    }
    // After three echoes the server closes: the client reads end of stream.
    ASSERT_TRUE(wait_readable(fd, 10'000));
    EXPECT_EQ(read(fd, buf, sizeof buf), 0);
    close(fd);
    EXPECT_TRUE(tcp_ping_pong(port, 64, 3, 9)) << "the server still serves new clients";
    EXPECT_TRUE(srv.running());
}

TEST(Echo, AnswersSocatOverUdp) {
    const uint16_t port = free_port(SOCK_DGRAM);
    EchoServer srv({"--udp", std::to_string(port)});
    std::string got;
    for (int attempt = 0; attempt < 20 && got.empty(); ++attempt) {
        got = run("echo ringlet-udp | timeout 5 socat -T1 - UDP:127.0.0.1:" + std::to_string(port));
    }
    EXPECT_EQ(got, "ringlet-udp\n");
}

TEST(Echo, AnswersNcAndSocatOverTcp) {
    const uint16_t port = free_port(SOCK_STREAM);
    EchoServer srv({"--tcp", std::to_string(port)});
    ASSERT_GE(connect_tcp(port), 0);
    EXPECT_EQ(run("printf 'hello nc\\n' | timeout 5 nc -N 127.0.0.1 " + std::to_string(port)), "hello nc\n");
    EXPECT_EQ(run("printf 'hello socat\\n' | timeout 5 socat - TCP:127.0.0.1:" + std::to_string(port)),
              "hello socat\n");
}

}  // namespace
