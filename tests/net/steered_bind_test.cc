// net/steered_bind: a core sharing its NIC with others (FakeNic::ports, as
// the libOS's per-core NicPorts offer it) opens TCP connections and sends
// UDP datagrams from local ports whose replies the steering brings back to
// it; when no such port is left, connect fails with EADDRINUSE.
#include <set>
#include <vector>

#include "net/local_ports.h"
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

constexpr uint16_t kCores = 4;
constexpr uint16_t kCore = 2;

class SteeredBindTest : public NetTest {
protected:
    void SetUp() override {
        ASSERT_TRUE(steering.init(kCores).ok());
        ASSERT_TRUE(ports.init(steering, kCore).ok());
        nic_a.ports = &ports;
    }
    // Whether what the peer sends to local_port comes to kCore.
    bool steered_here(uint16_t local_port, uint16_t peer_port) const {
        return steering.core_for_rx_flow(ntohl(kIpA), local_port, ntohl(kPeerIp), peer_port) == kCore;
    }
    Parsed tcp_out() {
        Parsed p = next_sent(nic_a);
        EXPECT_EQ(p.proto, kProtoTcp);
        return p;
    }
    // Closes what a test opened and checks lwIP holds nothing after.
    void close_all(const std::vector<int>& qds) {
        for (int qd : qds) EXPECT_TRUE(os->close(qd).ok());
        run_for_ms(1);
        stack_abort_orphan_pcbs();
        EXPECT_EQ(stack_tcp_pcbs(), 0u);
        EXPECT_EQ(stack_udp_pcbs(), 0u);
    }

    FlowSteering steering;
    LocalPorts ports;
};

TEST_F(SteeredBindTest, ConnectsFromPortsThatSteerBackAndCompletes) {
    boot();
    learn_peer();
    std::set<uint16_t> used;
    std::vector<int> qds;
    int first = -1;
    demi_qtoken_t first_qt = 0;
    Parsed first_syn;
    for (int i = 0; i < 16; ++i) {
        const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
        qds.push_back(c);
        const sockaddr_in to = addr(kPeerIp, 8080);
        const demi_qtoken_t qt = *os->start_connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        Parsed syn = tcp_out();
        ASSERT_EQ(syn.flags, kSyn);
        EXPECT_GE(syn.sport, LocalPorts::kFirst);
        EXPECT_TRUE(steered_here(syn.sport, 8080)) << "SYN from port " << syn.sport;
        EXPECT_TRUE(used.insert(syn.sport).second);
        if (i == 0) {
            first = c;
            first_qt = qt;
            first_syn = syn;
        }
    }
    // The chosen port is really the connection's: the peer's answer to it
    // completes the handshake.
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoTcp,
                                      tcp_segment(kPeerIp, kIpA, 8080, first_syn.sport, 5000, first_syn.seq + 1,
                                                  kSyn | kAck, 65535, {}))));
    const demi_qresult_t r = wait(first_qt);
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_CONNECT);
    EXPECT_EQ(qds[0], first);
    close_all(qds);
}

TEST_F(SteeredBindTest, NoPortLeftIsEaddrinuse) {
    // A range of 32 ports: only those that steer to this core may be used.
    ASSERT_TRUE(ports.init(steering, kCore, 50000, 50031).ok());
    size_t mine = 0;
    for (uint32_t p = 50000; p <= 50031; ++p) mine += steered_here(static_cast<uint16_t>(p), 80) ? 1 : 0;
    ASSERT_GT(mine, 0u);
    boot();
    learn_peer();
    const sockaddr_in to = addr(kPeerIp, 80);
    std::vector<int> qds;
    for (size_t i = 0; i < mine; ++i) {
        const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
        qds.push_back(c);
        (void)*os->start_connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        Parsed syn = tcp_out();
        EXPECT_TRUE(steered_here(syn.sport, 80));
    }
    const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
    qds.push_back(c);
    const demi_qresult_t r = wait(*os->start_connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to));
    EXPECT_EQ(r.qr_opcode, DEMI_OPC_FAILED);
    EXPECT_EQ(r.qr_ret, EADDRINUSE);
    // Another peer port is another flow: its own ports may steer here.
    const sockaddr_in other = addr(kPeerIp, 81);
    size_t for_other = 0;
    for (uint32_t p = 50000; p <= 50031; ++p) for_other += steered_here(static_cast<uint16_t>(p), 81) ? 1 : 0;
    if (for_other > mine) {
        const int d = *os->socket(AF_INET, SOCK_STREAM, 0);
        qds.push_back(d);
        (void)*os->start_connect(d, reinterpret_cast<const sockaddr*>(&other), sizeof other);
        EXPECT_TRUE(steered_here(tcp_out().sport, 81));
    }
    close_all(qds);
}

TEST_F(SteeredBindTest, UdpFirstDatagramBindsAPortThatSteersBackAndGetsTheReply) {
    boot();
    learn_peer();
    const int qd = *os->socket(AF_INET, SOCK_DGRAM, 0);
    const Bytes payload{'h', 'i', '!'};
    demi_sgarray_t sga = sga_with(payload);
    const sockaddr_in to = addr(kPeerIp, 5353);
    ASSERT_EQ(wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to)).qr_opcode,
              DEMI_OPC_PUSH);
    EXPECT_TRUE(os->sgafree(&sga).ok());
    Parsed d = next_sent(nic_a);
    ASSERT_EQ(d.proto, kProtoUdp);
    EXPECT_TRUE(steered_here(d.sport, 5353)) << "datagram from port " << d.sport;
    // The reply to that port is popped on this socket.
    const demi_qtoken_t qt = *os->start_pop(qd);
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp_segment(kPeerIp, kIpA, 5353, d.sport, payload))));
    const demi_qresult_t r = wait(qt);
    ASSERT_EQ(r.qr_opcode, DEMI_OPC_POP);
    EXPECT_EQ(r.qr_value.sga.sga_segs[0].sgaseg_len, payload.size());
    demi_sgarray_t got = r.qr_value.sga;
    EXPECT_TRUE(os->sgafree(&got).ok());
    close_all({qd});
}

TEST_F(SteeredBindTest, AnExplicitlyBoundPortIsLeftAlone) {
    boot();
    learn_peer();
    const int c = *os->socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = addr(0, 45678);
    ASSERT_TRUE(os->bind(c, reinterpret_cast<sockaddr*>(&a), sizeof a).ok());
    const sockaddr_in to = addr(kPeerIp, 8080);
    (void)*os->start_connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    EXPECT_EQ(tcp_out().sport, 45678);
    close_all({c});
}

}  // namespace
}  // namespace ringlet::net::test
