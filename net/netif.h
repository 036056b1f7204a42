// Netif: one lwIP network interface over an abstract NIC (NicPort), so the
// same code runs over virtio-net on the target and over a fake NIC in tests.
//
// RX: the NIC hands each received frame, still in its DMA buffer, to
// Netif::receive(); a plain UDP datagram to a bound port goes to its queue
// directly (net/udp_fast_path.h), anything else is wrapped as a DMA pbuf (no
// copy) and given to lwIP's ethernet_input; the buffer goes back to the heap
// when its last holder lets go. TX: a frame built in place in one DMA buffer
// (the fast path, or lwIP's headers prepended into an in-place pbuf) goes to
// the NIC as one segment; otherwise lwIP's pbuf chain becomes TxSegments:
// headers in lwIP's own memory are copied into one DMA buffer with the NIC's
// headroom in front, and every piece whose bytes are in the DMA heap (UDP and
// TCP payloads) is passed by reference. Payload bytes copied are counted
// (mem::DataplaneStats).
#pragma once

#include <stdint.h>

#include "libos/mem/dma_heap.h"
#include "lwip/netif.h"
#include "ringlet/result.h"

namespace ringlet::net {

class LocalPorts;

struct MacAddress {
    uint8_t bytes[6];
};

// An IPv4 address in network byte order (as sockaddr_in::sin_addr.s_addr).
constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "network order below assumes a little-endian host");
    return static_cast<uint32_t>(a) | static_cast<uint32_t>(b) << 8 | static_cast<uint32_t>(c) << 16 |
           static_cast<uint32_t>(d) << 24;
}

// Addresses of one interface; the defaults are QEMU user networking's.
struct NetConfig {
    uint32_t address = ipv4(10, 0, 2, 15);
    uint32_t netmask = ipv4(255, 255, 255, 0);
    uint32_t gateway = ipv4(10, 0, 2, 2);
};

// Parses "a.b.c.d" (exactly four decimal parts, each 0..255, nothing after)
// into network byte order; BadFormat otherwise.
Result<uint32_t> parse_ipv4(const char* text, uint32_t length);

// Reads "ip=a.b.c.d[/prefix] gw=a.b.c.d" words from a boot-argument string
// into `config` (words it does not know are skipped; absent ones keep their
// values). BadFormat for a malformed ip=, gw= or prefix.
Result<void> parse_net_config(const char* args, NetConfig* config);

// One piece of an outgoing frame: buf->data()[offset, offset + len).
struct TxSegment {
    mem::Buffer* buf;
    uint32_t offset;
    uint32_t len;
};
inline constexpr uint32_t kMaxTxSegments = 8;

// Checksum work a NIC takes off the stack (virtio-net: CSUM, GUEST_CSUM).
struct NicOffloads {
    bool tx_checksum = false;  // fills in TCP/UDP checksums on request
    bool rx_checksum = false;  // may mark received frames as checksum-verified
};

// Asks the NIC to fill in a TCP/UDP checksum: it sums the frame from byte
// `start` to its end and stores the folded complement at start + offset,
// where the stack left the pseudo-header sum.
struct ChecksumRequest {
    uint16_t start = 0;
    uint16_t offset = 0;
};

// Where a NIC delivers received frames.
class FrameSink {
public:
    // Takes over one reference to b; the frame is b->data()[offset, offset+len).
    // `l4_checksum_verified`: the device vouches for the TCP/UDP checksum
    // (verified it, or the frame comes from a local sender that left it to
    // be filled in), so the stack need not check it.
    virtual void receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) = 0;

protected:
    ~FrameSink() = default;
};

// The NIC as the stack sees it (virtio-net, or a fake in tests).
class NicPort {
public:
    virtual MacAddress mac() const = 0;
    virtual uint16_t mtu() const { return 1500; }
    // Bytes the device needs in front of a frame inside the first segment's
    // buffer (virtio-net: its 12-byte header).
    virtual uint32_t tx_headroom() const { return 0; }
    // What the NIC offers (and negotiated); fixed once start() returned.
    virtual NicOffloads offloads() const { return {}; }
    // Called once before any other call with the heap RX buffers come from
    // and TX references go back to (post RX buffers here).
    virtual Result<void> start(mem::DmaHeap& heap) = 0;
    // Queues one frame made of segs[0, n) (n <= kMaxTxSegments). segs[0]
    // has tx_headroom() bytes of its buffer free before segs[0].offset.
    // Takes over one reference to each segment's buffer whatever the outcome
    // (dropped when the device is done, at once on failure). Full when the
    // TX ring has no room. `csum` (only if offloads().tx_checksum) asks the
    // device to fill in the TCP/UDP checksum.
    virtual Result<void> transmit(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum) = 0;
    // transmit() of a frame lying whole in b->data()[off, off + len), with
    // tx_headroom() bytes free before it and no checksum to fill in (the
    // UDP fast path's frames): the same ownership and errors. A NIC may
    // override it with a shorter path.
    virtual Result<void> transmit_frame(mem::Buffer* b, uint32_t off, uint32_t len) {
        const TxSegment seg{b, off, len};
        return transmit(&seg, 1, nullptr);
    }
    // Handles up to `max` completions and received frames (each given to
    // sink.receive()); returns how many it handled.
    virtual uint32_t poll(uint32_t max, FrameSink& sink) = 0;
    // When several cores share the NIC (flows steered by hash, issue 14):
    // this core's chooser of local ports for the flows it opens, so their
    // replies come back to it (net/local_ports.h). nullptr: one core, any
    // port the stack picks will do.
    virtual LocalPorts* local_ports() { return nullptr; }

protected:
    ~NicPort() = default;
};

class UdpPorts;

// Moves whenever lwIP's ARP table may have changed: a frame went to lwIP's
// input (an ARP reply or request is the only way an entry gets a new MAC,
// ETHARP_TRUST_IP_MAC being off), lwIP's timers ran (entries expire), an
// interface came or went. The fast paths' senders keep the next hop's MAC
// with the epoch they read it at and look in lwIP's table again only when
// it moved (one compare per datagram instead of an ARP lookup). lwIP's own
// sends may also recycle an entry for a new address, which forgets a MAC
// but never changes one: the kept MAC stays the right one. One per core
// (each core has its own lwIP and its own copy of this, make_core_copies.sh).
extern uint32_t g_arp_epoch;
inline void note_arp_may_change() { ++g_arp_epoch; }

struct NetifStats {
    uint64_t rx_frames = 0;      // handed to lwIP
    uint64_t rx_dropped = 0;     // refused before lwIP: runt, oversized, no wrapper
    uint64_t tx_frames = 0;
    uint64_t tx_dropped = 0;     // no DMA memory or the NIC refused
    uint64_t tx_copied = 0;      // bytes copied into head buffers
    uint64_t tx_zero_copy = 0;   // segments passed by reference
    uint64_t tx_csum_offloaded = 0;  // TCP/UDP checksums left to the NIC
    uint64_t rx_csum_verified = 0;   // frames whose TCP/UDP checksum lwIP skipped
    uint64_t rx_fast = 0;            // frames the UDP or TCP fast path took (not lwIP)
    uint64_t rx_lwip = 0;            // frames given to lwIP's input (rx_frames - rx_fast)
    uint64_t tx_fast = 0;            // frames sent whole from one buffer (transmit_in_place)
    uint64_t tx_ring_full = 0;       // frames the NIC had no room for (counted in tx_dropped too)
};

class Netif final : public FrameSink {
public:
    // Shortest frame worth giving lwIP: an Ethernet header.
    static constexpr uint32_t kMinFrame = 14;

    // An interface over `nic`, allocating TX head buffers from `heap`. Both
    // must outlive it. Not added to lwIP until attach().
    Netif(NicPort& nic, mem::DmaHeap& heap) : m_nic(nic), m_heap(heap) {}
    ~Netif();
    Netif(const Netif&) = delete;
    Netif& operator=(const Netif&) = delete;

    // Adds the interface to lwIP with cfg's addresses, up with link up;
    // `make_default` routes everything off-subnet through it. Precondition:
    // stack_init() ran. Exists if already attached, OutOfMemory if lwIP
    // refused it.
    Result<void> attach(const NetConfig& cfg, bool make_default);
    // Removes it from lwIP (lwIP aborts the TCP connections bound to its
    // address). Harmless when not attached.
    void detach();

    // FrameSink: hands one frame to lwIP (or drops and counts it).
    void receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) override;

    // Plain UDP datagrams to this interface's address go to the queue
    // `ports` has bound to their port first (net/udp_fast_path.h); nullptr:
    // everything goes to lwIP.
    void set_udp_ports(const UdpPorts* ports) { m_udp_ports = ports; }
    // Sends the frame b->data()[off, off + len) as it is (its headers
    // written already), the NIC's headroom in front of it: one descriptor.
    // Takes its own reference to b. The NIC's error (Full) otherwise.
    // Inline: the fast paths' every frame; a NIC that fills in checksums
    // takes the out-of-line way.
    [[gnu::always_inline]] Result<void> transmit_in_place(mem::Buffer* b, uint32_t off, uint32_t len) {
        if (m_heap_gone) return Error::Closed;
        if (off < m_tx_headroom || off > b->capacity || len > b->capacity - off) return Error::InvalidArgument;
        m_heap.retain(b);
        Result<void> r = m_offloads.tx_checksum ? transmit_offloaded(b, off, len) : m_nic.transmit_frame(b, off, len);
        if (!r) [[unlikely]] {
            note_tx_failed(r.error());
            return r.error();
        }
        ++m_stats.tx_frames;
        ++m_stats.tx_fast;
        return {};
    }
    MacAddress mac() const { return m_mac; }
    uint32_t address() const { return ip4_addr_get_u32(netif_ip4_addr(&m_netif)); }
    uint32_t netmask() const { return ip4_addr_get_u32(netif_ip4_netmask(&m_netif)); }
    uint32_t gateway() const { return ip4_addr_get_u32(netif_ip4_gw(&m_netif)); }
    bool tx_checksum_offload() const { return m_offloads.tx_checksum; }
    uint16_t mtu() const { return m_netif.mtu; }
    // The NIC's chooser of local ports (NicPort::local_ports), or nullptr.
    LocalPorts* local_ports() { return m_nic.local_ports(); }

    // Polls the NIC once (completions and received frames).
    uint32_t poll(uint32_t max) { return m_nic.poll(max, *this); }
    // Whether a frame went to lwIP, since the last call, while its TCP
    // timer was stopped (so lwIP may have started it); clears the hint.
    bool take_timer_hint() {
        const bool h = m_timer_hint;
        m_timer_hint = false;
        return h;
    }
    // Whether the NIC's ring was full for a frame since the last call;
    // clears it. lwIP keeps a TCP segment it could not send in the pcb's
    // unsent queue, but sends it again only from that pcb's next ACK or
    // timer — when everything else it sent was acknowledged there may be
    // no ACK, and the retransmission timer ticks in 500 ms steps. So the
    // backend retries those pcbs once the NIC was polled again
    // (LwipBackend::poll, stack_output_unsent).
    bool take_tx_stalled() {
        const bool s = m_tx_stalled;
        m_tx_stalled = false;
        return s;
    }

    // The heap is gone (backend teardown): from now on frames lwIP still
    // sends (the RSTs of netif_remove's aborts) are dropped, not built.
    void forget_heap() { m_heap_gone = true; }

    const NetifStats& stats() const { return m_stats; }
    netif* raw() { return &m_netif; }
    bool attached() const { return m_attached; }

private:
    static err_t init_netif(netif* n);
    static err_t link_output(netif* n, pbuf* p);
    err_t transmit(pbuf* p);
    // transmit_in_place()'s hand-off with TX checksum offload: asks the NIC
    // to fill in the frame's TCP/UDP checksum (takes over the reference).
    Result<void> transmit_offloaded(mem::Buffer* b, uint32_t off, uint32_t len);
    // Whether q's bytes can go to the device by reference: their buffer
    // and offset.
    bool by_reference(const pbuf* q, mem::Buffer** b, uint32_t* off);
    // With TX offload: where the NIC must fill in frame's TCP/UDP checksum,
    // after putting the pseudo-header sum in its field (frame: the first
    // `len` bytes, holding all headers); false if the frame needs none.
    static bool prepare_checksum(uint8_t* frame, uint32_t len, ChecksumRequest* out);
    void note_tx_failed(Error e) {
        ++m_stats.tx_dropped;
        if (e != Error::Full) return;
        ++m_stats.tx_ring_full;
        m_tx_stalled = true;
    }

    NicPort& m_nic;
    mem::DmaHeap& m_heap;
    netif m_netif{};
    NetifStats m_stats;
    bool m_attached = false;
    bool m_heap_gone = false;
    NicOffloads m_offloads;
    uint32_t m_tx_headroom = 0;  // the NIC's, read once at attach()
    uint16_t m_checksum_flags = 0;  // lwIP's per-netif NETIF_CHECKSUM_* set
    const UdpPorts* m_udp_ports = nullptr;
    bool m_timer_hint = false;  // see take_timer_hint()
    bool m_tx_stalled = false;  // see take_tx_stalled()
    MacAddress m_mac{};  // the NIC's, read once at attach()
};

}  // namespace ringlet::net
