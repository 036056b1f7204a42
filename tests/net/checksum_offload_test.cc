// net/netif with a NIC that offers checksum offload (virtio-net CSUM and
// GUEST_CSUM) and without: on TX the stack leaves the pseudo-header sum and
// asks the NIC to finish TCP and UDP checksums, never IP or ICMP ones; on RX
// a frame the NIC vouches for skips lwIP's TCP/UDP check, and nothing else.
#include "net/stack.h"
#include "tests/net/net_fixture.h"

namespace ringlet::net::test {
namespace {

class ChecksumOffloadTest : public NetTest {
protected:
    // Sends `payload` from the app's UDP queue (port 5000) to the peer.
    Parsed udp_out(const Bytes& payload) {
        const int qd = *os->socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a = addr(0, 5000);
        EXPECT_TRUE(os->bind(qd, reinterpret_cast<sockaddr*>(&a), sizeof a).ok());
        demi_sgarray_t sga = sga_with(payload);
        sockaddr_in to = addr(kPeerIp, 6000);
        const demi_qresult_t r = wait(*os->start_push(qd, &sga, reinterpret_cast<const sockaddr*>(&to), sizeof to));
        EXPECT_EQ(r.qr_opcode, DEMI_OPC_PUSH);
        (void)os->sgafree(&sga);
        m_udp = qd;
        return next_sent(nic_a);
    }
    // A datagram for port 5000 whose UDP checksum is wrong (and optionally
    // its IP header checksum too); true if the app's queue got it.
    bool delivered_with_bad_checksum(bool bad_ip_header) {
        Bytes udp = udp_segment(kPeerIp, kIpA, 6000, 5000, Bytes{'b', 'a', 'd'});
        udp[6] ^= 0x5a;  // the UDP checksum field
        Bytes ip = ipv4_packet(kPeerIp, kIpA, kProtoUdp, udp, 7);
        if (bad_ip_header) ip[10] ^= 0x11;
        nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4, ip));
        const demi_qtoken_t qt = *os->start_pop(m_udp);
        demi_qresult_t r = wait(qt, 200);
        if (r.qr_opcode != DEMI_OPC_POP) {
            (void)os->close(m_udp);  // cancels the pop
            m_udp = -1;
            return false;
        }
        (void)os->sgafree(&r.qr_value.sga);
        return true;
    }

    int m_udp = -1;
};

TEST_F(ChecksumOffloadTest, UdpChecksumIsLeftToTheNicWithThePseudoHeaderSum) {
    nic_a.offload.tx_checksum = true;
    boot();
    learn_peer();
    const Parsed p = udp_out(Bytes(300, 0x42));
    ASSERT_EQ(p.proto, kProtoUdp);
    EXPECT_EQ(nic_a.csum_requests, 1u);
    EXPECT_EQ(nic_a.last_csum.start, 34);  // Ethernet 14 + IPv4 20
    EXPECT_EQ(nic_a.last_csum.offset, 6);
    // The field held the folded pseudo-header sum: src, dst, protocol, length.
    const uint8_t ph[12] = {10, 0, 2, 15, 10, 0, 2, 2, 0, kProtoUdp, 0x01, 0x34};  // 8 + 300 = 0x134
    EXPECT_EQ(nic_a.last_csum_field, static_cast<uint16_t>(~inet_checksum(ph, sizeof ph)));
    // Finished by the "device", the frame is right on the wire; lwIP still
    // did the IP header.
    EXPECT_TRUE(p.l4_checksum_ok);
    EXPECT_TRUE(p.ip_checksum_ok);
    EXPECT_EQ(backend->interface(0)->stats().tx_csum_offloaded, 1u);
}

TEST_F(ChecksumOffloadTest, WithoutOffloadLwipComputesEveryChecksum) {
    boot();
    learn_peer();
    const Parsed p = udp_out(Bytes(300, 0x42));
    EXPECT_EQ(nic_a.csum_requests, 0u);
    EXPECT_TRUE(p.l4_checksum_ok);
    EXPECT_TRUE(p.ip_checksum_ok);
}

TEST_F(ChecksumOffloadTest, IcmpAndArpAreNeverOffloaded) {
    nic_a.offload.tx_checksum = true;
    boot();
    learn_peer();
    nic_a.inject(ethernet(kMacA, kPeerMac, kEthIpv4,
                          ipv4_packet(kPeerIp, kIpA, kProtoIcmp, icmp_echo(8, 1, 1, Bytes(40, 7)))));
    const Parsed reply = next_sent(nic_a);
    EXPECT_EQ(reply.icmp_type, 0);
    EXPECT_TRUE(reply.l4_checksum_ok);
    EXPECT_EQ(nic_a.csum_requests, 0u);
}

TEST_F(ChecksumOffloadTest, FramesTheNicVouchesForSkipOnlyTheTransportCheck) {
    nic_a.offload.rx_checksum = true;
    nic_a.mark_rx_verified = true;
    boot();
    learn_peer();
    (void)udp_out(Bytes{'x'});
    const DropStats before = stack_drop_stats();
    EXPECT_TRUE(delivered_with_bad_checksum(false)) << "a verified frame was checked again";
    EXPECT_FALSE(delivered_with_bad_checksum(true)) << "the IP header check must stay";
    EXPECT_GE(stack_drop_stats().ip_chkerr - before.ip_chkerr, 1u);
    EXPECT_GE(backend->interface(0)->stats().rx_csum_verified, 2u);
}

TEST_F(ChecksumOffloadTest, UnverifiedFramesAreCheckedEvenWithRxOffload) {
    nic_a.offload.rx_checksum = true;  // negotiated, but this frame is not marked
    boot();
    learn_peer();
    (void)udp_out(Bytes{'x'});
    const DropStats before = stack_drop_stats();
    EXPECT_FALSE(delivered_with_bad_checksum(false));
    EXPECT_GE(stack_drop_stats().udp_chkerr - before.udp_chkerr, 1u);
    EXPECT_EQ(backend->interface(0)->stats().rx_csum_verified, 0u);
}

}  // namespace
}  // namespace ringlet::net::test
