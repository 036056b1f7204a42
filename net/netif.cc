#include "net/netif.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip.h"
#include "libos/mem/dataplane_stats.h"
#include "net/dma_pbuf.h"
#include "net/inet_sum.h"
#include "net/lwip_backend.h"
#include "net/tcp_fast_path.h"
#include "net/udp_fast_path.h"
#include "netif/ethernet.h"

namespace ringlet::net {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number 0..max from text[*i], advancing *i; false if none.
bool parse_number(const char* text, uint32_t length, uint32_t* i, uint32_t max, uint32_t* out) {
    uint32_t v = 0, digits = 0;
    while (*i < length && is_digit(text[*i])) {
        v = v * 10 + static_cast<uint32_t>(text[*i] - '0');
        ++*i;
        if (++digits > 3 || v > max) return false;
    }
    *out = v;
    return digits > 0;
}

using inet::be16;

bool starts_with(const char* word, uint32_t length, const char* prefix) {
    const uint32_t n = static_cast<uint32_t>(strlen(prefix));
    return length >= n && memcmp(word, prefix, n) == 0;
}

}  // namespace

Result<uint32_t> parse_ipv4(const char* text, uint32_t length) {
    if (text == nullptr) return Error::InvalidArgument;
    uint8_t parts[4];
    uint32_t i = 0;
    for (uint32_t k = 0; k < 4; ++k) {
        uint32_t v;
        if (!parse_number(text, length, &i, 255, &v)) return Error::BadFormat;
        parts[k] = static_cast<uint8_t>(v);
        if (k < 3) {
            if (i >= length || text[i] != '.') return Error::BadFormat;
            ++i;
        }
    }
    if (i != length) return Error::BadFormat;
    return ipv4(parts[0], parts[1], parts[2], parts[3]);
}

Result<void> parse_net_config(const char* args, NetConfig* config) {
    if (args == nullptr || config == nullptr) return Error::InvalidArgument;
    NetConfig c = *config;
    const char* p = args;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t') ++p;
        const char* word = p;
        while (*p != '\0' && *p != ' ' && *p != '\t') ++p;
        const auto len = static_cast<uint32_t>(p - word);
        if (starts_with(word, len, "ip=")) {
            uint32_t end = 3;
            while (end < len && word[end] != '/') ++end;
            c.address = TRY(parse_ipv4(word + 3, end - 3));
            if (end < len) {  // "/prefix"
                uint32_t i = end + 1, prefix;
                if (!parse_number(word, len, &i, 32, &prefix) || i != len) return Error::BadFormat;
                const uint32_t host_mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
                c.netmask = __builtin_bswap32(host_mask);
            }
        } else if (starts_with(word, len, "gw=")) {
            c.gateway = TRY(parse_ipv4(word + 3, len - 3));
        }
    }
    *config = c;
    return {};
}

uint32_t g_arp_epoch = 0;

Netif::~Netif() { detach(); }

err_t Netif::init_netif(netif* n) {
    auto* self = static_cast<Netif*>(n->state);
    const MacAddress mac = self->m_nic.mac();
    n->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(n->hwaddr, mac.bytes, ETH_HWADDR_LEN);
    n->mtu = self->m_nic.mtu();
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    n->name[0] = 'r';
    n->name[1] = 'n';
    n->output = etharp_output;
    n->linkoutput = link_output;
    return ERR_OK;
}

Result<void> Netif::attach(const NetConfig& cfg, bool make_default) {
    if (m_attached) return Error::Exists;
    m_tx_headroom = m_nic.tx_headroom();  // before netif_add: bringing it up sends a frame
    ip4_addr_t ip, mask, gw;
    ip4_addr_set_u32(&ip, cfg.address);
    ip4_addr_set_u32(&mask, cfg.netmask);
    ip4_addr_set_u32(&gw, cfg.gateway);
    if (netif_add(&m_netif, &ip, &mask, &gw, this, init_netif, ethernet_input) == nullptr) return Error::OutOfMemory;
    m_attached = true;
    note_arp_may_change();
    m_mac = m_nic.mac();
    // lwIP keeps the IP header and ICMP checksums (cheap, and no device
    // does them); TCP and UDP ones go to a NIC that fills them in.
    m_offloads = m_nic.offloads();
    m_checksum_flags = NETIF_CHECKSUM_ENABLE_ALL;
    if (m_offloads.tx_checksum) m_checksum_flags &= ~(NETIF_CHECKSUM_GEN_UDP | NETIF_CHECKSUM_GEN_TCP);
    NETIF_SET_CHECKSUM_CTRL(&m_netif, m_checksum_flags);
    if (make_default) netif_set_default(&m_netif);
    netif_set_link_up(&m_netif);
    netif_set_up(&m_netif);  // announces the address with a gratuitous ARP
    return {};
}

void Netif::detach() {
    if (!m_attached) return;
    netif_set_down(&m_netif);
    netif_remove(&m_netif);  // drops ARP entries and queued packets too
    m_attached = false;
    note_arp_may_change();
}

void Netif::receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool l4_checksum_verified) {
    if (!m_attached || len < kMinFrame) {
        ++m_stats.rx_dropped;
        m_heap.release(b);
        return;
    }
    // Only IPv4/UDP can take the fast path: a look at the protocol byte
    // spares TCP (and everything else) the parser's call.
    if (m_udp_ports != nullptr && len > 23 && b->data()[offset + 23] == 17) {
        UdpFrame f;
        const bool verified = l4_checksum_verified && m_offloads.rx_checksum;
        if (parse_udp_frame_inline(b->data() + offset, len, verified, &f) && f.dst_ip == address()) {
            UdpFastReceiver* r = m_udp_ports->find(f.dst_port, f.dst_ip);
            if (r != nullptr && r->receive_fast(b, offset + f.payload_off, f.payload_len, f.src_ip, f.src_port)) {
                ++m_stats.rx_frames;
                ++m_stats.rx_fast;
                return;
            }
        }
    }
    // TCP on an established connection: header prediction (tcp_fast_path.h).
    if (len > 23 && b->data()[offset + 23] == 6) {
        if (!LwipBackend::tcp_timer_running()) m_timer_hint = true;
        const bool verified = l4_checksum_verified && m_offloads.rx_checksum;
        const TcpFastVerdict v = tcp_fast_receive(&m_netif, m_heap, b, offset, len, verified);
        if (v == TcpFastVerdict::Taken) {
            ++m_stats.rx_frames;
            ++m_stats.rx_fast;
            return;
        }
        if (v == TcpFastVerdict::Dropped) {
            ++m_stats.rx_dropped;
            return;
        }
    }
    pbuf* p = wrap_dma(b, offset, len);  // consumes the reference either way
    if (p == nullptr) {
        ++m_stats.rx_dropped;
        return;
    }
    ++m_stats.rx_frames;
    ++m_stats.rx_lwip;
    note_arp_may_change();
    // lwIP checks per interface, not per packet; input runs to completion
    // here (NO_SYS, one core), so the interface's flags can say "verified"
    // for exactly this frame. Replies lwIP sends meanwhile see the same GEN
    // flags as always.
    const bool skip = l4_checksum_verified && m_offloads.rx_checksum;
    if (skip) {
        ++m_stats.rx_csum_verified;
        NETIF_SET_CHECKSUM_CTRL(&m_netif, m_checksum_flags & ~(NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_TCP));
    }
    // lwIP may start its TCP timer while handling this frame only if it is
    // stopped now (LwipBackend::after_lwip_call()).
    if (!LwipBackend::tcp_timer_running()) m_timer_hint = true;
    // On error lwIP did not take the pbuf; on success it owns it.
    if (m_netif.input(p, &m_netif) != ERR_OK) pbuf_free(p);
    if (skip) NETIF_SET_CHECKSUM_CTRL(&m_netif, m_checksum_flags);
}

bool Netif::prepare_checksum(uint8_t* frame, uint32_t len, ChecksumRequest* out) {
    // Ethernet II carrying IPv4 (no VLAN tags: lwIP sends none).
    constexpr uint32_t kEth = 14;
    if (len < kEth + 20 || be16(frame + 12) != 0x0800) return false;
    const uint8_t* ip = frame + kEth;
    const uint32_t ihl = (ip[0] & 0x0fu) * 4;
    // A fragment cannot be summed by the device: lwIP left 0 in a UDP
    // datagram's field ("no checksum", valid over IPv4); TCP never fragments.
    if ((ip[0] >> 4) != 4 || ihl < 20 || (be16(ip + 6) & 0x3fff) != 0) return false;
    const uint8_t proto = ip[9];
    const uint32_t field = proto == IP_PROTO_TCP ? 16 : proto == IP_PROTO_UDP ? 6 : 0;
    const uint32_t l4_len = be16(ip + 2) - ihl;
    if (field == 0 || be16(ip + 2) < ihl + field + 2 || kEth + ihl + field + 2 > len) return false;
    // Section 5.1.6.2 of virtio: the field holds the pseudo-header sum.
    inet::put_be16(frame + kEth + ihl + field, inet::fold(inet::pseudo_sum(ip, proto, l4_len)));
    out->start = static_cast<uint16_t>(kEth + ihl);
    out->offset = static_cast<uint16_t>(field);
    return true;
}

err_t Netif::link_output(netif* n, pbuf* p) { return static_cast<Netif*>(n->state)->transmit(p); }

// Bytes at the front of a frame that are not an app's TCP/UDP payload
// (Ethernet, IPv4 and TCP/UDP headers; all of an ARP, ICMP or other frame):
// what a copy of the frame's head copies that the payload counter skips.
static uint32_t header_bytes(const uint8_t* f, uint32_t len) {
    constexpr uint32_t kEth = 14;
    if (len < kEth + 20 || be16(f + 12) != 0x0800) return len;
    const uint32_t ihl = (f[kEth] & 0x0fu) * 4;
    const uint8_t proto = f[kEth + 9];
    uint32_t n = kEth + ihl;
    if ((be16(f + kEth + 6) & 0x1fff) != 0) {
        // A later fragment: no L4 header, the rest is payload.
    } else if (proto == IP_PROTO_UDP) {
        n += 8;
    } else if (proto == IP_PROTO_TCP && len >= kEth + ihl + 13) {
        n += (f[kEth + ihl + 12] >> 4) * 4u;
    } else {
        return len;
    }
    return n < len ? n : len;
}

// Where a piece of an outgoing frame can be handed to the device without a
// copy: a DMA pbuf, or any pbuf whose bytes lie in one DMA-heap buffer
// (TCP's references to pushed data, IP fragments' slices of a datagram).
bool Netif::by_reference(const pbuf* q, mem::Buffer** b, uint32_t* off) {
    if (dma_segment(q, b, off)) return true;
    if (!m_heap.contains(q->payload)) return false;
    auto owner = m_heap.owner_of(q->payload);
    if (!owner) return false;
    const auto* payload = static_cast<const uint8_t*>(q->payload);
    if (payload + q->len > (*owner)->data() + (*owner)->capacity) return false;
    *b = *owner;
    *off = static_cast<uint32_t>(payload - (*owner)->data());
    return true;
}

Result<void> Netif::transmit_offloaded(mem::Buffer* b, uint32_t off, uint32_t len) {
    ChecksumRequest csum;
    if (!prepare_checksum(b->data() + off, len, &csum)) return m_nic.transmit_frame(b, off, len);
    ++m_stats.tx_csum_offloaded;
    const TxSegment seg{b, off, len};
    return m_nic.transmit(&seg, 1, &csum);
}

err_t Netif::transmit(pbuf* p) {
    if (m_heap_gone) {
        ++m_stats.tx_dropped;
        return ERR_IF;
    }
    const pbuf* first = p;
    while (first != nullptr && first->len == 0) first = first->next;
    if (first == nullptr) return ERR_VAL;
    const uint32_t headroom = m_tx_headroom;
    // Plan. The first piece holds every header lwIP wrote; it goes by
    // reference only if it sits in a DMA buffer with the device's headroom
    // in front (an in-place pbuf: a pushed datagram, or a received frame
    // answered in place). Later pieces go by reference wherever their bytes
    // are in the DMA heap. The rest is copied, in runs, into one new head
    // buffer - unless that needs more segments than a frame may have, then
    // the whole frame is copied.
    mem::Buffer* fb = nullptr;
    uint32_t foff = 0;
    const bool first_by_ref = dma_segment(first, &fb, &foff) && foff >= headroom;
    uint32_t copy_bytes = 0, segments = 0;
    bool in_run = false;
    // What the plan found for the first pieces, so the build below does
    // not look each one up in the heap again (a TCP frame: two pieces).
    struct Found {
        mem::Buffer* buf;  // nullptr: copied
        uint32_t off;
    };
    constexpr uint32_t kRemembered = 2 * kMaxTxSegments;
    Found found[kRemembered];
    uint32_t pieces = 0;
    const uint8_t* first_copied = nullptr;  // where the first copied piece's bytes are
    for (const pbuf* q = first; q != nullptr; q = q->next) {
        if (q->len == 0) continue;
        mem::Buffer* b = fb;
        uint32_t off = foff;
        const bool ref = q == first ? first_by_ref : by_reference(q, &b, &off);
        if (pieces < kRemembered) found[pieces] = Found{ref ? b : nullptr, off};
        ++pieces;
        if (ref) {
            ++segments;
            in_run = false;
        } else {
            if (first_copied == nullptr) first_copied = static_cast<const uint8_t*>(q->payload);
            copy_bytes += q->len;
            if (!in_run) ++segments;
            in_run = true;
        }
    }
    const bool by_ref = segments <= kMaxTxSegments;
    if (!by_ref) {
        copy_bytes = p->tot_len;
        first_copied = static_cast<const uint8_t*>(first->payload);
    }
    mem::Buffer* h = nullptr;
    uint32_t pos = headroom;
    if (copy_bytes > 0) {
        // Up to 7 bytes more, so the copy starts at the source's offset
        // modulo 8 and memcpy moves whole words (lwIP's header pbufs are
        // rarely 8-aligned; a misaligned copy merges every word).
        auto head = m_heap.alloc(headroom + 7 + copy_bytes);
        if (!head) {
            ++m_stats.tx_dropped;
            return ERR_MEM;
        }
        h = *head;
        h->app_owned = false;  // a stack buffer: demi_sgafree must refuse it
        pos += static_cast<uint32_t>(reinterpret_cast<uintptr_t>(first_copied) -
                                     reinterpret_cast<uintptr_t>(h->data() + headroom)) & 7u;
    }
    TxSegment segs[kMaxTxSegments];
    uint32_t n = 0, payload_copied = 0;
    uint32_t piece = 0;
    for (const pbuf* q = first; q != nullptr; q = q->next) {
        if (q->len == 0) continue;
        mem::Buffer* b = fb;
        uint32_t off = foff;
        bool ref;
        if (piece < kRemembered) {
            b = found[piece].buf;
            off = found[piece].off;
            ref = b != nullptr;
        } else {
            ref = q == first ? first_by_ref : by_reference(q, &b, &off);
        }
        ++piece;
        if (by_ref && ref) {
            m_heap.retain(b);
            segs[n++] = TxSegment{b, off, q->len};
            ++m_stats.tx_zero_copy;
            continue;
        }
        memcpy(h->data() + pos, q->payload, q->len);
        m_stats.tx_copied += q->len;
        // Header bytes lwIP wrote into its own memory are not payload.
        payload_copied += q == first ? q->len - header_bytes(static_cast<const uint8_t*>(q->payload), q->len) : q->len;
        if (n > 0 && segs[n - 1].buf == h && segs[n - 1].offset + segs[n - 1].len == pos) {
            segs[n - 1].len += q->len;
        } else {
            m_heap.retain(h);
            segs[n++] = TxSegment{h, pos, q->len};
        }
        pos += q->len;
    }
    if (h != nullptr) {
        h->len = pos;
        m_heap.release(h);  // the segments hold their own references now
    }
    mem::count_payload_copy(payload_copied);
    if (payload_copied == 0) ++mem::g_dataplane_stats.tx_by_reference;
    // Every header lwIP wrote is in the first segment.
    ChecksumRequest csum;
    const bool offload = m_offloads.tx_checksum &&
                         prepare_checksum(segs[0].buf->data() + segs[0].offset, segs[0].len, &csum);
    if (offload) ++m_stats.tx_csum_offloaded;
    if (auto sent = m_nic.transmit(segs, n, offload ? &csum : nullptr); !sent) {
        note_tx_failed(sent.error());
        return ERR_IF;  // TCP keeps the segment (unsent) and tries again
    }
    ++m_stats.tx_frames;
    return ERR_OK;
}

}  // namespace ringlet::net

// lwIP's source-routing hook (lwipopts.h): a packet from one of our
// addresses leaves through the interface that owns it, so two interfaces on
// one subnet (the tests' wire, or two NICs) each answer for themselves.
extern "C" struct netif* ringlet_lwip_route_src(const struct ip4_addr* src, const struct ip4_addr* dest) {
    (void)dest;
    if (src == nullptr || ip4_addr_isany(src)) return nullptr;
    struct netif* n;
    NETIF_FOREACH(n) {
        if (netif_is_up(n) && ip4_addr_cmp(src, netif_ip4_addr(n))) return n;
    }
    return nullptr;
}
