// UDP queues on lwIP's raw API, zero-copy both ways.
//
// RX: a received datagram stays in the DMA buffer the NIC wrote it into.
// The queue takes a reference to that buffer, notes where the payload
// starts (Buffer::off/len) and the source address (Buffer::meta), and lets
// lwIP free its wrapper; the buffer itself goes to the app on pop and back
// to the heap on demi_sgafree. A pop already waiting is completed straight
// from the receive callback. Copies happen only where a datagram is not one
// piece of one buffer (a reassembled IP fragment chain) or when the app
// holds so much received memory that lending more could starve the RX ring
// (may_lend_rx); each copied byte is counted (mem::DataplaneStats).
// TX: the app's buffer is wrapped in place when its headroom can take the
// UDP/IP/Ethernet and virtio headers and nobody else uses it, so lwIP
// prepends them into the headroom and the frame leaves as one descriptor;
// otherwise it goes by reference behind a header lwIP allocates.
#include <arpa/inet.h>
#include <string.h>

#include <new>

#include "libos/mem/dataplane_stats.h"
#include "libos/rt/notifier.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "net/dma_pbuf.h"
#include "net/lwip_backend.h"
#include "net/lwip_error.h"
#include "net/queues.h"
#include "net/steered_bind.h"
#include "net/udp_fast_path.h"

namespace ringlet::net {

namespace {

// The largest UDP payload over IPv4 (lwIP fragments above the MTU).
constexpr uint32_t kMaxDatagram = 65507;
// Headers lwIP puts in front of a datagram's payload (UDP 8, IPv4 20 without
// options, Ethernet 14); the NIC's own header comes on top.
constexpr uint32_t kUdpFrameHeaders = 8 + 20 + 14;

class UdpQueue final : public pdpix::Queue, public UdpFastReceiver {
public:
    UdpQueue(LwipBackend& be, udp_pcb* pcb) : m_be(be), m_pcb(pcb) { udp_recv(m_pcb, on_recv, this); }
    ~UdpQueue() override { close(); }

    Result<void> bind(const sockaddr_in& a) override {
        if (m_pcb == nullptr) return Error::Closed;
        if (m_pcb->local_port != 0) return Error::InvalidArgument;  // bound already
        ip_addr_t ip;
        ip_addr_set_ip4_u32(&ip, a.sin_addr.s_addr);
        TRY(lwip_result(udp_bind(m_pcb, &ip, ntohs(a.sin_port))));
        // lwIP holds the port; the fast path takes plain datagrams to it
        // (a full table only means they go through lwIP).
        m_fast = m_be.add_fast_port(htons(m_pcb->local_port), a.sin_addr.s_addr, this);
        return {};
    }

    // The fast path's delivery: a well-formed datagram to our port, its
    // payload at b->data()[off, off + len).
    bool receive_fast(mem::Buffer* b, uint32_t off, uint32_t len, uint32_t src_ip, uint16_t src_port) override {
        if (m_pcb == nullptr || !may_lend_rx(m_be.heap())) return false;  // lwIP's path copies
        b->off = off;
        b->len = len;
        ++mem::g_dataplane_stats.rx_lent;
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_port = src_port;
        src.sin_addr.s_addr = src_ip;
        enqueue(b, src);
        return true;
    }

    // A datagram never waits: it is handed to the link (or refused) now.
    Result<void> try_push(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in* to) override {
        return send(b, off, len, to, 1);
    }

    rt::Task<Result<void>> push(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in* to) override {
        // The caller's task holds one reference, the app maybe another.
        co_return send(b, off, len, to, 2);
    }

    Result<mem::Buffer*> try_pop(sockaddr_in* from) override {
        if (mem::Buffer* b = take()) {
            __builtin_memcpy(from, b->meta, sizeof *from);
            b->app_owned = true;
            return b;
        }
        if (m_pcb == nullptr) return Error::Closed;
        return Error::WouldBlock;
    }

    bool park_pop(pdpix::PopWaiter* w) override {
        park(w);
        return true;
    }

    rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from) override {
        for (;;) {
            auto r = try_pop(from);
            if (r.ok() || r.error() != Error::WouldBlock) co_return r;
            co_await m_ready.wait();
        }
    }

    void close() override {
        if (m_fast) m_be.remove_fast_port(this);
        m_fast = false;
        if (m_pcb != nullptr) {
            udp_remove(m_pcb);
            m_pcb = nullptr;
        }
        while (mem::Buffer* b = take()) m_be.heap().release(b);
        const sockaddr_in none{};
        while (pdpix::PopWaiter* w = take_parked_pop()) w->complete(Error::Closed, none);
        m_ready.notify_all();
    }

    uint64_t dropped() const { return m_dropped; }

private:
    // `holders`: references the caller and the app hold at most; any more
    // means someone else (the device, another push) still uses the buffer,
    // and its headroom must not be rewritten.
    [[gnu::always_inline]] Result<void> send(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in* to,
                                             uint32_t holders) {
        // No connected UDP in PDPIX: every push names its destination.
        if (to == nullptr) return Error::InvalidArgument;
        if (m_pcb == nullptr) return Error::Closed;
        if (m_pcb->local_port == 0) TRY(bind_for_first_peer(*to));
        if (len > kMaxDatagram) return Error::Truncated;
        if (off > b->capacity || len > b->capacity - off) return Error::InvalidArgument;
        const uint32_t headroom = kUdpFrameHeaders + m_be.tx_headroom();
        const bool alone = b->refs <= holders - (b->app_owned ? 0 : 1);
        if (alone && off >= headroom && len > 0) {
            auto fast = send_fast(b, off, len, *to);
            if (fast.ok() || fast.error() != Error::WouldBlock) return fast;
        }
        pbuf* p;
        if (len == 0) {
            p = pbuf_alloc(PBUF_TRANSPORT, 0, PBUF_RAM);
        } else {
            // The wrapper takes its own reference: lwIP may keep the pbuf
            // (ARP queue, fragments) after this push completes.
            m_be.heap().retain(b);
            p = wrap_dma(b, off, len, alone && off >= headroom);
        }
        if (p == nullptr && len > 0) {
            // No wrapper left: fall back to one copy into lwIP's memory.
            p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(len), PBUF_RAM);
            if (p == nullptr) return Error::OutOfMemory;
            (void)pbuf_take(p, b->data() + off, static_cast<u16_t>(len));
            mem::count_payload_copy(len);
        } else if (p == nullptr) {
            return Error::OutOfMemory;
        } else if (is_in_place(p)) {
            ++mem::g_dataplane_stats.tx_in_place;
        }
        ip_addr_t dst;
        ip_addr_set_ip4_u32(&dst, to->sin_addr.s_addr);
        const err_t e = udp_sendto(m_pcb, p, &dst, ntohs(to->sin_port));
        pbuf_free(p);
        // Like a host stack: a datagram is "sent" once handed to the link;
        // an unresolved ARP queues it (ERR_OK), a refused NIC is an error.
        return lwip_result(e);
    }

    // An unbound socket's first datagram: with cores sharing the NIC, a
    // local port whose replies from this peer come back to this core, and
    // the fast path's delivery to it, as bind() sets up. Unbound otherwise
    // (lwIP picks the port in udp_sendto).
    Result<void> bind_for_first_peer(const sockaddr_in& to) {
        TRY(bind_steered(m_be, m_pcb, to));
        if (m_pcb->local_port != 0) m_fast = m_be.add_fast_port(htons(m_pcb->local_port), 0, this);
        return {};
    }

    // The fast path's send: headers written into the headroom in front of
    // the payload, one descriptor, no lwIP. WouldBlock when it does not
    // apply (lwIP's path then sends): a datagram that needs fragments, a
    // broadcast, or a next hop the ARP table does not know yet.
    [[gnu::always_inline]] Result<void> send_fast(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in& to) {
        const uint32_t dst = to.sin_addr.s_addr;
        uint8_t* frame = b->data() + off - kUdpHeaders;
        // The flow of the last datagram (an echo answers the same peer):
        // its route and headers are known; its neighbour entry is checked
        // again, for the same MAC, only if lwIP's ARP table may have
        // changed since (g_arp_epoch).
        if (m_flow.valid && m_flow.dst == dst && m_flow.port == to.sin_port && m_flow.ttl == m_pcb->ttl &&
            len <= m_flow.max_len) {
            bool mac_ok = m_flow.arp_epoch == g_arp_epoch;
            if (!mac_ok) {
                const eth_addr* mac = neighbour(m_flow.n, m_flow.hop);
                mac_ok = mac != nullptr && same_mac(mac->addr, m_flow.tpl.bytes);
                if (mac_ok) m_flow.arp_epoch = g_arp_epoch;
            }
            if (mac_ok && write_udp_headers(frame, len, m_ip_id, m_flow.tpl)) {
                ++m_ip_id;
                TRY(m_flow.n->transmit_in_place(b, off - kUdpHeaders, len + kUdpHeaders));
                ++mem::g_dataplane_stats.tx_in_place;
                return {};
            }
        }
        const uint8_t first = static_cast<uint8_t>(dst);
        if (m_pcb->local_port == 0 || first >= 224 || dst == 0 || dst == 0xffffffffu || to.sin_port == 0) {
            return Error::WouldBlock;
        }
        const uint32_t local = ip4_addr_get_u32(ip_2_ip4(&m_pcb->local_ip));
        uint32_t hop = 0;
        Netif* n = m_be.route(dst, local, &hop);
        if (n == nullptr || len > n->mtu() - 28u) return Error::WouldBlock;
        if ((dst | n->netmask()) == 0xffffffffu) return Error::WouldBlock;  // a subnet's broadcast
        const eth_addr* mac = neighbour(n, hop);
        if (mac == nullptr) return Error::WouldBlock;
        UdpHeaderSpec spec;
        spec.src_mac = n->mac();
        spec.dst_mac = mac->addr;
        spec.src_ip = local != 0 ? local : n->address();
        spec.dst_ip = dst;
        spec.src_port = htons(m_pcb->local_port);
        spec.dst_port = to.sin_port;
        spec.ip_id = m_ip_id++;
        spec.ttl = m_pcb->ttl;
        spec.software_checksum = !n->tx_checksum_offload();
        write_udp_headers(frame, len, spec);
        // The next datagram of this flow starts from these headers.
        m_flow.valid = true;
        m_flow.dst = dst;
        m_flow.port = to.sin_port;
        m_flow.ttl = spec.ttl;
        m_flow.max_len = n->mtu() - 28u;
        m_flow.n = n;
        m_flow.hop = hop;
        m_flow.arp_epoch = g_arp_epoch;
        make_udp_template(spec, &m_flow.tpl);
        TRY(n->transmit_in_place(b, off - kUdpHeaders, len + kUdpHeaders));
        ++mem::g_dataplane_stats.tx_in_place;
        return {};
    }

    // hop's MAC from lwIP's ARP table (stable entries only), remembering
    // where it was found so the next datagram to it checks one entry.
    const eth_addr* neighbour(Netif* n, uint32_t hop) {
        ip4_addr_t* ip;
        struct netif* nif;
        eth_addr* mac;
        if (m_arp_hint >= 0 && etharp_get_entry(static_cast<size_t>(m_arp_hint), &ip, &nif, &mac) &&
            ip4_addr_get_u32(ip) == hop && nif == n->raw()) {
            return mac;
        }
        ip4_addr_t want;
        ip4_addr_set_u32(&want, hop);
        const ip4_addr_t* found_ip;
        const ssize_t i = etharp_find_addr(n->raw(), &want, &mac, &found_ip);
        if (i < 0) return nullptr;
        m_arp_hint = static_cast<int32_t>(i);
        return mac;
    }

    // Whether the 6-byte MACs at a (any alignment) and b (2-aligned) match.
    static bool same_mac(const uint8_t* a, const uint8_t* b) {
        using Half [[gnu::may_alias]] = uint16_t;
        const auto* hb = reinterpret_cast<const Half*>(b);
        if ((reinterpret_cast<uintptr_t>(a) & 1) == 0) {
            const auto* ha = reinterpret_cast<const Half*>(a);
            return ((ha[0] ^ hb[0]) | (ha[1] ^ hb[1]) | (ha[2] ^ hb[2])) == 0;
        }
        return __builtin_memcmp(a, b, 6) == 0;
    }

    static void on_recv(void* arg, udp_pcb*, pbuf* p, const ip_addr_t* addr, u16_t port) {
        static_cast<UdpQueue*>(arg)->deliver(p, addr, port);
    }

    // The datagram p as a buffer of its own (payload at b->begin()), or
    // nullptr if the heap is out of memory. Frees p.
    mem::Buffer* adopt(pbuf* p) {
        mem::DmaHeap& heap = m_be.heap();
        mem::Buffer* frame;
        uint32_t off;
        const bool lend = p->next == nullptr && p->len == p->tot_len && dma_segment(p, &frame, &off) &&
                          may_lend_rx(heap);
        if (lend) {
            heap.retain(frame);
            frame->off = off;
            frame->len = p->tot_len;
            pbuf_free(p);  // its wrapper goes; the buffer is ours now
            ++mem::g_dataplane_stats.rx_lent;
            return frame;
        }
        // A fragment chain, or memory is short: one counted copy.
        auto copy = heap.alloc(p->tot_len);
        if (copy) {
            (void)pbuf_copy_partial(p, (*copy)->data(), p->tot_len, 0);
            mem::count_payload_copy(p->tot_len);
            ++mem::g_dataplane_stats.rx_copied;
        }
        pbuf_free(p);
        return copy ? *copy : nullptr;
    }

    void deliver(pbuf* p, const ip_addr_t* addr, u16_t port) {
        // Its payload is the least it would pin: drop it before adopting.
        if (m_queued_bytes + p->tot_len > kUdpRxBacklogBytes && !has_parked_pops()) {
            ++m_dropped;
            ++mem::g_dataplane_stats.udp_rx_dropped;
            pbuf_free(p);
            return;
        }
        mem::Buffer* b = adopt(p);
        if (b == nullptr) {
            ++m_dropped;
            return;
        }
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_port = htons(port);
        src.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(addr));
        enqueue(b, src);
    }

    // Hands b (the datagram, one reference) to a parked pop, else queues it
    // (dropped beyond kUdpRxBacklogBytes, as a full socket buffer would).
    void enqueue(mem::Buffer* b, const sockaddr_in& src) {
        b->app_owned = false;  // the queue's until popped
        if (pdpix::PopWaiter* w = take_parked_pop()) {
            b->app_owned = true;
            w->complete(b, src);
            return;
        }
        // Counted as the DMA memory the datagram pins (its whole block,
        // as Linux counts truesize), not as datagrams: a flood of tiny
        // datagrams in full-size RX buffers must not pin the heap.
        if (m_queued_bytes + pinned_bytes(b) > kUdpRxBacklogBytes) {
            ++m_dropped;
            ++mem::g_dataplane_stats.udp_rx_dropped;
            m_be.heap().release(b);
            return;
        }
        m_queued_bytes += pinned_bytes(b);
        static_assert(sizeof src <= sizeof b->meta);
        __builtin_memcpy(b->meta, &src, sizeof src);
        b->next = nullptr;
        if (m_tail == nullptr) {
            m_head = m_tail = b;
        } else {
            m_tail->next = b;
            m_tail = b;
        }
        ++m_queued;
        m_ready.notify_all();
    }

    // The heap block behind b: its header and all its capacity.
    static size_t pinned_bytes(const mem::Buffer* b) { return sizeof(mem::Buffer) + b->capacity; }

    mem::Buffer* take() {
        mem::Buffer* b = m_head;
        if (b == nullptr) return nullptr;
        m_head = b->next;
        if (m_head == nullptr) m_tail = nullptr;
        b->next = nullptr;
        --m_queued;
        m_queued_bytes -= pinned_bytes(b);
        return b;
    }

    LwipBackend& m_be;
    udp_pcb* m_pcb;
    mem::Buffer* m_head = nullptr;
    mem::Buffer* m_tail = nullptr;
    uint32_t m_queued = 0;
    size_t m_queued_bytes = 0;  // DMA bytes the queued datagrams pin
    uint64_t m_dropped = 0;
    bool m_fast = false;       // in the backend's fast-path table
    int32_t m_arp_hint = -1;   // ARP table entry of the last next hop
    uint16_t m_ip_id = 1;      // IPv4 ids of fast-path datagrams (never fragmented)
    // The last fast-path flow: destination, its route and next hop, and its
    // headers (the template's first 6 bytes are the neighbour's MAC).
    struct Flow {
        bool valid = false;
        uint8_t ttl = 0;
        uint16_t port = 0;  // network order
        uint32_t dst = 0;   // network order
        uint32_t max_len = 0;
        Netif* n = nullptr;
        uint32_t hop = 0;
        uint32_t arp_epoch = 0;  // g_arp_epoch when the template's MAC was last found in lwIP's table
        UdpHeaderTemplate tpl;
    };
    Flow m_flow;
    rt::Notifier m_ready;
};

}  // namespace

Result<pdpix::Queue*> make_udp_queue(LwipBackend& backend) {
    udp_pcb* pcb = udp_new();
    if (pcb == nullptr) return Error::OutOfMemory;
    auto* q = new (std::nothrow_t{}) UdpQueue(backend, pcb);
    if (q == nullptr) {
        udp_remove(pcb);
        return Error::OutOfMemory;
    }
    return static_cast<pdpix::Queue*>(q);
}

}  // namespace ringlet::net
