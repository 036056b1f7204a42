// Sender: AF_PACKET (packet(7)) on the interface, and QEMU's filter-redirector
// stream format for the injector: a 32-bit big-endian length, then the frame.
#include "tools/rawframe/sender.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ringlet::rawframe {

namespace {

Result<void> write_all(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return Error::IoError;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return {};
}

}  // namespace

Result<Sender> Sender::create(const std::string& ifname, const std::string& inject_path, size_t inject_header) {
    Sender s;
    s.m_ifname = ifname;
    s.m_inject_header = inject_header;
    s.m_packet.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));  // protocol 0: send only, receive nothing
    if (!s.m_packet.valid() || ifname.size() >= IFNAMSIZ) return Error::IoError;
    ifreq ifr{};
    memcpy(ifr.ifr_name, ifname.c_str(), ifname.size() + 1);
    if (::ioctl(s.m_packet.get(), SIOCGIFINDEX, &ifr) != 0) return Error::IoError;
    s.m_ifindex = ifr.ifr_ifindex;
    if (::ioctl(s.m_packet.get(), SIOCGIFMTU, &ifr) != 0) return Error::IoError;
    s.m_mtu = static_cast<size_t>(ifr.ifr_mtu);
    if (::ioctl(s.m_packet.get(), SIOCGIFHWADDR, &ifr) != 0) return Error::IoError;
    memcpy(s.m_mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = s.m_ifindex;
    if (::bind(s.m_packet.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) return Error::IoError;
    if (!inject_path.empty()) {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (inject_path.size() >= sizeof un.sun_path) return Error::InvalidArgument;
        memcpy(un.sun_path, inject_path.c_str(), inject_path.size() + 1);
        s.m_inject.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!s.m_inject.valid() || ::connect(s.m_inject.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) {
            return Error::IoError;
        }
        // A filter-redirector reads its chardev once: a second client is
        // accepted by the kernel but never read. Fail instead of hanging.
        const timeval limit{10, 0};
        if (::setsockopt(s.m_inject.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0) return Error::IoError;
    }
    return s;
}

Result<Sender::Path> Sender::send(const Frame& f, std::string& why, bool inject) {
    // packet(7) refuses frames shorter than the link header or longer than
    // the MTU plus the header.
    if (!inject && f.size() >= kEthHeader && f.size() <= m_mtu + kEthHeader) {
        if (::send(m_packet.get(), f.data(), f.size(), 0) != static_cast<ssize_t>(f.size())) {
            why = loadgen::errno_text("send on the packet socket", errno);
            return Error::IoError;
        }
        return Path::Interface;
    }
    if (!m_inject.valid()) return Path::Skipped;
    Frame record(4 + m_inject_header, 0);
    put32(record, 0, static_cast<uint32_t>(m_inject_header + f.size()));
    record.insert(record.end(), f.begin(), f.end());
    if (!write_all(m_inject.get(), record.data(), record.size())) {
        why = loadgen::errno_text("write to the injector", errno);
        return Error::IoError;
    }
    return Path::Injector;
}

uint64_t Sender::tx_dropped() const {
    // "  IF: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame rx_compressed
    //  rx_multicast tx_bytes tx_packets tx_errs tx_drop ...": tx_drop is the 12th.
    std::ifstream in("/proc/net/dev");
    std::string line;
    while (std::getline(in, line)) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const size_t start = line.find_first_not_of(' ');
        if (line.compare(start, colon - start, m_ifname) != 0) continue;
        std::istringstream fields(line.substr(colon + 1));
        uint64_t v = 0;
        for (int i = 0; i < 12 && (fields >> v); ++i) {
        }
        return v;
    }
    return 0;
}

}  // namespace ringlet::rawframe
