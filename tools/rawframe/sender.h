// Sender: puts raw frames on the wire below the host's IP stack. Frames go
// out through an AF_PACKET socket bound to the (tap) interface; a frame that
// socket cannot carry (shorter than an Ethernet header, longer than the MTU)
// goes, when an injector socket is given, to a QEMU filter-redirector
// chardev, which hands it to the guest's NIC unchanged. On a tap netdev
// QEMU's frames carry a virtio-net header (12 bytes, tap's IFF_VNET_HDR)
// before the Ethernet header, so an injected frame gets that many zero
// bytes first (no offload flags, no GSO).
#pragma once

#include <stdint.h>

#include <string>

#include "ringlet/result.h"
#include "tools/loadgen/net.h"
#include "tools/rawframe/frame.h"

namespace ringlet::rawframe {

class Sender {
public:
    // Opens the packet socket on `ifname` (IoError: no such interface or no
    // CAP_NET_RAW) and, with a non-empty `inject_path`, connects to that
    // unix socket (IoError when nothing listens there). QEMU's redirector
    // serves one connection only: one Sender per injector socket.
    static Result<Sender> create(const std::string& ifname, const std::string& inject_path,
                                 size_t inject_header = kTapVnetHeader);
    static constexpr size_t kTapVnetHeader = 12;

    // The interface's own MAC address (the source of the hostile frames).
    const Mac& mac() const { return m_mac; }

    enum class Path { Interface, Injector, Skipped };
    // Sends one frame (with `inject`, through the injector whatever its
    // size); Skipped when neither path can carry it. IoError with the reason
    // in `why` when a send fails.
    Result<Path> send(const Frame& f, std::string& why, bool inject = false);

    // The interface's transmit drops (frames the tap device dropped because
    // its reader, QEMU, fell behind), from /proc/net/dev, which shows the
    // caller's network namespace; 0 when unreadable.
    uint64_t tx_dropped() const;

private:
    Sender() = default;
    loadgen::Fd m_packet;
    loadgen::Fd m_inject;
    std::string m_ifname;
    int m_ifindex = 0;
    size_t m_mtu = 1500;
    size_t m_inject_header = kTapVnetHeader;
    Mac m_mac{};
};

}  // namespace ringlet::rawframe
