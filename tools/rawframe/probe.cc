#include "tools/rawframe/probe.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tools/loadgen/net.h"

namespace ringlet::rawframe {

namespace {
constexpr int kRounds = 10;
constexpr int kRoundMs = 500;
}  // namespace

Result<GuestSequence> learn_sequence(Sender& sender, const std::string& ifname, const Target& t, uint16_t host_port) {
    loadgen::Fd rx(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP)));
    const unsigned index = if_nametoindex(ifname.c_str());
    if (!rx.valid() || index == 0) return Error::IoError;
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = static_cast<int>(index);
    if (::bind(rx.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) return Error::IoError;
    const Frame probe = sequence_probe(t, host_port);
    for (int round = 0; round < kRounds; ++round) {
        std::string why;
        if (!sender.send(probe, why)) return Error::IoError;
        pollfd p{rx.get(), POLLIN, 0};
        while (::poll(&p, 1, kRoundMs) > 0) {
            uint8_t buf[2048];
            sockaddr_ll from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(rx.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n <= 0) break;
            if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own frames
            GuestSequence at;
            if (parse_guest_ack(std::span<const uint8_t>(buf, static_cast<size_t>(n)), t, host_port, &at)) return at;
        }
    }
    return Error::TimedOut;
}

}  // namespace ringlet::rawframe
