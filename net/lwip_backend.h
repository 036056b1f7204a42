// LwipBackend: the PDPIX Backend whose UDP and TCP queues run on lwIP's raw
// API over one or more NICs (virtio-net on the target, fakes in tests).
//
// It is also the PollSource of the core's fast-path poll task: each turn
// polls every NIC (completions, received frames into lwIP) and runs lwIP's
// due timers. lwIP's next timer is mirrored as an executor Timer, so an idle
// core still sleeps in Platform::block() only until lwIP needs to run.
// lwIP keeps global state: one LwipBackend may be started per process.
#pragma once

#include <stdint.h>

#include "libos/pdpix/queue.h"
#include "libos/rt/poll_loop.h"
#include "net/netif.h"
#include "net/udp_fast_path.h"

// lwIP's lists of connections (lwip/priv/tcp_priv.h declares them the same
// way), read by tcp_timer_running() below.
extern "C" {
extern struct tcp_pcb* tcp_active_pcbs;
extern struct tcp_pcb* tcp_tw_pcbs;
}

namespace ringlet::net {

class LwipBackend final : public pdpix::Backend, public rt::PollSource {
public:
    static constexpr uint32_t kMaxInterfaces = 4;
    static constexpr uint32_t kMaxFastPorts = UdpPorts::kMax;

    // A backend whose executor blocks through `platform`. Both the platform
    // and every NIC added must outlive the backend.
    explicit LwipBackend(rt::Platform& platform) : m_platform(platform) {}
    ~LwipBackend() override;
    LwipBackend(const LwipBackend&) = delete;
    LwipBackend& operator=(const LwipBackend&) = delete;

    // Registers a NIC with its addresses; the first one is the default route.
    // Call before start(). Full beyond kMaxInterfaces, Busy after start().
    Result<void> add_interface(NicPort& nic, const NetConfig& cfg);

    // --- pdpix::Backend ---
    rt::Platform& platform() override { return m_platform; }
    // Initialises lwIP (clock from the platform), starts the NICs on `heap`,
    // attaches the interfaces and spawns the poll task. InvalidArgument with
    // no interface, Busy if another LwipBackend is running in the process.
    Result<void> start(rt::Executor& exec, mem::DmaHeap& heap) override;
    // AF_INET SOCK_DGRAM (UDP) and SOCK_STREAM (TCP); Unsupported otherwise,
    // OutOfMemory when lwIP has no pcb left.
    Result<pdpix::Queue*> socket(int domain, int type, int protocol) override;
    void destroy(pdpix::Queue* q) override;

    // --- rt::PollSource ---
    uint32_t poll(uint32_t max) override;
    bool stop() override { return m_stopping; }

    // --- for the queues ---
    // Re-arms the executor timer after a call into lwIP that may have
    // queued an earlier lwIP timer (connect, write, close).
    void kick();
    // Whether lwIP's TCP timer is scheduled now (read before a call into
    // lwIP), and kick() after that call only if the call may have added
    // a timer: the per-segment calls of an established connection add none.
    static bool tcp_timer_running() {
        // lwIP (timeouts.c) starts its TCP timer when a pcb enters the active
        // or TIME_WAIT list and keeps re-arming it while either list holds
        // one; every other timer of this configuration is cyclic from the
        // start. Inline: asked on every TCP frame and push.
        return tcp_active_pcbs != nullptr || tcp_tw_pcbs != nullptr;
    }
    void after_lwip_call(bool tcp_timer_was_running);
    mem::DmaHeap& heap() { return *m_heap; }
    // lwIP's clock: the executor's round time while it runs.
    uint64_t clock_ns() { return m_exec != nullptr ? m_exec->now_ns() : m_platform.now_ns(); }
    // The most any NIC needs in front of a frame (virtio-net: its header).
    uint32_t tx_headroom() const { return m_tx_headroom; }
    rt::Executor& executor() { return *m_exec; }

    Netif* interface(uint32_t i) { return i < m_count ? m_netifs[i] : nullptr; }

    // --- the UDP fast path (net/udp_fast_path.h) ---
    // Datagrams to `port` (network order) on `ip` (0: any of ours) go to r
    // without lwIP. False when the table is full (lwIP still serves the port).
    bool add_fast_port(uint16_t port, uint32_t ip, UdpFastReceiver* r) { return m_udp_ports.add(port, ip, r); }
    void remove_fast_port(UdpFastReceiver* r) { m_udp_ports.remove(r); }
    // The interface a datagram to dst leaves from when its source is src (0:
    // any): the one owning src, else the one whose subnet holds dst, else
    // the default. Also the next hop on it (dst or the gateway).
    Netif* route(uint32_t dst, uint32_t src, uint32_t* next_hop);
    uint32_t interfaces() const { return m_count; }

private:
    struct LwipTimer : rt::Timer {
        LwipBackend* owner;
    };
    static void on_timer(rt::Timer* t);

    rt::Platform& m_platform;
    rt::Executor* m_exec = nullptr;
    mem::DmaHeap* m_heap = nullptr;
    NicPort* m_nics[kMaxInterfaces] = {};
    NetConfig m_configs[kMaxInterfaces];
    Netif* m_netifs[kMaxInterfaces] = {};
    // The Netifs live here (no heap on the target); built at start().
    alignas(Netif) unsigned char m_netif_storage[kMaxInterfaces][sizeof(Netif)];
    uint32_t m_count = 0;
    uint32_t m_tx_headroom = 0;
    LwipTimer m_timer;
    bool m_timer_armed = false;
    UdpPorts m_udp_ports;  // the UDP fast path's bound queues, read by the Netifs
    uint64_t m_lwip_due = 0;  // when lwIP's earliest timer is due (ns)
    bool m_started = false;
    bool m_stopping = false;
};

}  // namespace ringlet::net
