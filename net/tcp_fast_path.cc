#include "net/tcp_fast_path.h"

#include "libos/mem/dataplane_stats.h"
#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "net/checksum.h"
#include "net/dma_pbuf.h"
#include "net/inet_sum.h"
#include "net/lwip_backend.h"
#include "net/netif.h"

namespace ringlet::net {

namespace {

constexpr uint32_t kEth = 14;
constexpr uint32_t kIp = 20;
constexpr uint8_t kProtoTcp = 6;

// Headers are read as native 16-bit words (the device's buffers are
// 2-aligned), as in net/udp_fast_path.cc.
using inet::fold32;
using inet::ld16;
using inet::ld32;
using inet::swap16;
// A 32-bit network-order field, byte by byte: four loads, three shifts and
// three ors (two 16-bit loads and their swaps take more without Zbb).
inline uint32_t be32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}

constexpr uint16_t kTypeIpv4 = 0x0008;   // 0x0800 as a native load sees it
constexpr uint16_t kFragMask = 0xff3f;   // 0x3fff: MF and the offset
constexpr uint16_t kProtoWord = 0x0600;  // the pseudo-header's 0x0006

// The flags the prediction allows: ACK, and PSH with it. SYN, FIN, RST and
// URG (and ECN's bits) all go to lwIP.
constexpr uint8_t kFlagsMask = TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG | 0xc0;

// tcp_segs the receive fast path freed, reused by the send fast path (a
// memp_malloc and a memp_free per reply otherwise). Still memp's own (its
// stats count them used; lwIP frees one it ends up with to memp as usual),
// at most kSegCache of them; forgotten when lwIP is initialised again
// (memp_init takes every element back): tcp_fast_reset().
constexpr uint32_t kSegCache = 8;
tcp_seg* g_seg_cache[kSegCache];
uint32_t g_seg_cached = 0;

tcp_seg* get_seg() {
    if (g_seg_cached > 0) return g_seg_cache[--g_seg_cached];
    return static_cast<tcp_seg*>(memp_malloc(MEMP_TCP_SEG));
}

void put_seg(tcp_seg* s) {
    if (g_seg_cached < kSegCache) {
        g_seg_cache[g_seg_cached++] = s;
    } else {
        memp_free(MEMP_TCP_SEG, s);
    }
}

// tcp_seg_free for an acknowledged segment, and snd_queuelen's share: a
// one-pbuf in-place segment (the send fast path's) is taken apart here and
// its tcp_seg kept for the next one.
void free_acked_seg(tcp_pcb* pcb, tcp_seg* s) {
    if (free_if_in_place(s->p)) {
        pcb->snd_queuelen = static_cast<u16_t>(pcb->snd_queuelen - 1);
        put_seg(s);
        return;
    }
    pcb->snd_queuelen = static_cast<u16_t>(pcb->snd_queuelen - pbuf_clen(s->p));
    tcp_seg_free(s);
}

// The connection a segment belongs to: lwIP's own demultiplexing over the
// active pcbs (without its move-to-front), restricted to what the fast path
// handles.
tcp_pcb* find_pcb(const netif* nif, const TcpFrame& f) {
    for (tcp_pcb* pcb = tcp_active_pcbs; pcb != nullptr; pcb = pcb->next) {
        if (pcb->remote_port != f.src_port || pcb->local_port != f.dst_port) continue;
        if (ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) != f.src_ip ||
            ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)) != f.dst_ip) {
            continue;
        }
        if (pcb->netif_idx != NETIF_NO_INDEX && pcb->netif_idx != netif_get_index(nif)) continue;
        return pcb;
    }
    return nullptr;
}

// Whether lwIP's tcp_input would treat this segment as plain in-order data
// and/or an ACK of new data on an established connection, nothing else (the
// prediction). Decided before anything is changed.
bool predicted(const tcp_pcb* pcb, const TcpFrame& f, bool* window_update) {
    if (pcb->state != ESTABLISHED) return false;
    if ((pcb->flags & (TF_RXCLOSED | TF_INFR | TF_RTO | TF_FIN | TF_CLOSEPEND)) != 0) return false;
    if (pcb->refused_data != nullptr || pcb->ooseq != nullptr || pcb->persist_backoff != 0) return false;
    if (pcb->recv == nullptr) return false;
    // In order, and all of it inside our window (nothing for lwIP to trim).
    if (f.seqno != pcb->rcv_nxt || pcb->rcv_wnd == 0 || f.payload_len > pcb->rcv_wnd) return false;
    const bool new_ack = TCP_SEQ_BETWEEN(f.ackno, pcb->lastack + 1, pcb->snd_nxt);
    if (!new_ack) {
        // Data without new acknowledgement is fine; a pure ACK that acks
        // nothing new is a duplicate ACK or a window update: lwIP's.
        if (f.ackno != pcb->lastack || f.payload_len == 0) return false;
    } else if (pcb->unsent != nullptr && TCP_SEQ_GT(f.ackno, lwip_ntohl(pcb->unsent->tcphdr->seqno))) {
        // It acks bytes lwIP moved back to unsent (a retransmission): lwIP's.
        return false;
    }
    // The send window, as lwIP updates it (RFC 793's SND.WL1/WL2 rule). The
    // prediction wants it open and not moving its right edge back.
    const bool update = TCP_SEQ_LT(pcb->snd_wl1, f.seqno) || (pcb->snd_wl1 == f.seqno && TCP_SEQ_LT(pcb->snd_wl2, f.ackno)) ||
                        (pcb->snd_wl2 == f.ackno && f.wnd > pcb->snd_wnd);
    if (update) {
        if (f.wnd == 0 || TCP_SEQ_LT(f.ackno + f.wnd, pcb->snd_wl2 + pcb->snd_wnd)) return false;
    } else if (pcb->snd_wnd == 0) {
        return false;
    }
    *window_update = update;
    return true;
}

// The ACK half of tcp_receive for an ACK of new data: frees what it
// acknowledges from unacked, resets the retransmission state, grows the
// congestion window, takes an RTT sample. Returns the acknowledged bytes
// of freed segments (what lwIP reports to the sent callback).
uint32_t take_ack(tcp_pcb* pcb, uint32_t ackno) {
    const uint32_t acked = ackno - pcb->lastack;
    pcb->nrtx = 0;
    pcb->rto = static_cast<s16_t>((pcb->sa >> 3) + pcb->sv);
    pcb->dupacks = 0;
    pcb->lastack = ackno;
    // RFC 3465: slow start by at most two segments per ACK, else
    // congestion avoidance by one segment per window acknowledged.
    if (pcb->cwnd < pcb->ssthresh) {
        const uint32_t two = 2u * pcb->mss;
        TCP_WND_INC(pcb->cwnd, static_cast<tcpwnd_size_t>(acked < two ? acked : two));
    } else {
        TCP_WND_INC(pcb->bytes_acked, static_cast<tcpwnd_size_t>(acked));
        if (pcb->bytes_acked >= pcb->cwnd) {
            pcb->bytes_acked = static_cast<tcpwnd_size_t>(pcb->bytes_acked - pcb->cwnd);
            TCP_WND_INC(pcb->cwnd, pcb->mss);
        }
    }
    uint32_t freed = 0;
    // Everything sent acknowledged (an echo's every ACK; predicted() left
    // nothing acknowledged in unsent): every unacked segment goes, without
    // reading each one's sequence number out of its header.
    const bool all = ackno == pcb->snd_nxt;
    while (pcb->unacked != nullptr &&
           (all || TCP_SEQ_LEQ(lwip_ntohl(pcb->unacked->tcphdr->seqno) + TCP_TCPLEN(pcb->unacked), ackno))) {
        tcp_seg* s = pcb->unacked;
        pcb->unacked = s->next;
        freed += s->len;
        free_acked_seg(pcb, s);
    }
    pcb->rtime = pcb->unacked == nullptr ? -1 : 0;
    pcb->polltmr = 0;
#if TCP_OVERSIZE
    if (pcb->unsent == nullptr) pcb->unsent_oversize = 0;
#endif
    pcb->snd_buf = static_cast<tcpwnd_size_t>(pcb->snd_buf + freed);
    // Van Jacobson's estimator over the timed segment, in slow-timer ticks.
    if (pcb->rttest != 0 && TCP_SEQ_LT(pcb->rtseq, ackno)) {
        auto m = static_cast<s16_t>(tcp_ticks - pcb->rttest);
        m = static_cast<s16_t>(m - (pcb->sa >> 3));
        pcb->sa = static_cast<s16_t>(pcb->sa + m);
        if (m < 0) m = static_cast<s16_t>(-m);
        m = static_cast<s16_t>(m - (pcb->sv >> 2));
        pcb->sv = static_cast<s16_t>(pcb->sv + m);
        pcb->rto = static_cast<s16_t>((pcb->sa >> 3) + pcb->sv);
        pcb->rttest = 0;
    }
    return freed;
}

// tcp_update_rcv_ann_wnd, inline (the fast path's every data segment):
// announce the whole receive window once its right edge has moved by at
// least min(TCP_WND / 2, mss) past the one announced; otherwise keep the
// announced right edge where it is (none left if rcv_nxt passed it). Returns
// how far the announced edge moved (0: not at all).
inline uint32_t update_rcv_ann_wnd(tcp_pcb* pcb) {
    const uint32_t right_edge = pcb->rcv_nxt + pcb->rcv_wnd;
    const uint32_t step = (TCP_WND / 2) < pcb->mss ? (TCP_WND / 2) : pcb->mss;
    if (TCP_SEQ_GEQ(right_edge, pcb->rcv_ann_right_edge + step)) {
        pcb->rcv_ann_wnd = pcb->rcv_wnd;
        return right_edge - pcb->rcv_ann_right_edge;
    }
    pcb->rcv_ann_wnd = TCP_SEQ_GT(pcb->rcv_nxt, pcb->rcv_ann_right_edge)
                           ? 0
                           : static_cast<tcpwnd_size_t>(pcb->rcv_ann_right_edge - pcb->rcv_nxt);
    return 0;
}

// Applies a predicted segment to pcb and runs the app's callbacks, as
// tcp_input does after tcp_process. p: the payload (nullptr: a pure ACK,
// or a payload the app already took: `taken`).
void apply(tcp_pcb* pcb, const TcpFrame& f, bool window_update, pbuf* p, bool taken) {
    TCP_STATS_INC(tcp.recv);
    if (window_update) {
        pcb->snd_wnd = f.wnd;
        if (pcb->snd_wnd_max < pcb->snd_wnd) pcb->snd_wnd_max = pcb->snd_wnd;
        pcb->snd_wl1 = f.seqno;
        pcb->snd_wl2 = f.ackno;
    }
    pcb->tmr = tcp_ticks;  // TF_RXCLOSED is not set (predicted())
    pcb->keep_cnt_sent = 0;
    pcb->persist_probe = 0;
    uint32_t acked = 0;
    if (f.ackno != pcb->lastack) {
        acked = take_ack(pcb, f.ackno);
    } else {
        pcb->dupacks = 0;  // data that acks nothing new is no duplicate ACK
    }
    if (p != nullptr) {
        pcb->rcv_nxt = f.seqno + f.payload_len;
        pcb->rcv_wnd = static_cast<tcpwnd_size_t>(pcb->rcv_wnd - f.payload_len);
        (void)update_rcv_ann_wnd(pcb);
        tcp_ack(pcb);  // delayed: the reply, or the fast timer, carries it
        if ((f.flags & TCP_PSH) != 0) p->flags |= PBUF_FLAG_PUSH;
    } else if (taken) {
        // tcp_receive's window cut and the app's tcp_recved cancel out:
        // the window stays, its right edge moves with rcv_nxt, and a
        // large enough move is announced at once, as tcp_recved does.
        pcb->rcv_nxt = f.seqno + f.payload_len;
        tcp_ack(pcb);
        if (update_rcv_ann_wnd(pcb) >= TCP_WND_UPDATE_THRESHOLD) tcp_ack_now(pcb);
    }
    // Output the callbacks ask for waits until they are done (tcp_output
    // returns at once for tcp_input_pcb), then goes out once.
    tcp_input_pcb = pcb;
    err_t err = ERR_OK;
    if (acked > 0) {
        TCP_EVENT_SENT(pcb, static_cast<u16_t>(acked), err);
        if (err == ERR_ABRT) {  // the pcb is gone
            tcp_input_pcb = nullptr;
            if (p != nullptr) pbuf_free(p);
            return;
        }
    }
    if (p != nullptr) {
        TCP_EVENT_RECV(pcb, p, ERR_OK, err);
        if (err == ERR_ABRT) {
            tcp_input_pcb = nullptr;
            return;
        }
        if (err != ERR_OK) pcb->refused_data = p;  // lwIP offers it again from its timer
    }
    tcp_input_pcb = nullptr;
    if (pcb->unsent != nullptr || (pcb->flags & (TF_ACK_NOW | TF_NAGLEMEMERR)) != 0) (void)tcp_output(pcb);
}

}  // namespace

// parse_tcp_frame, inlined into the receive fast path.
[[gnu::always_inline]] static inline bool parse_frame(const uint8_t* f, uint32_t len, bool l4_verified, TcpFrame* out) {
    if (len < kTcpHeaders || (reinterpret_cast<uintptr_t>(f) & 1) != 0) return false;
    if (ld16(f + 12) != kTypeIpv4) return false;
    const uint8_t* ip = f + kEth;
    if (ip[0] != 0x45 || ip[9] != kProtoTcp) return false;  // IPv4, no options, TCP
    const uint32_t total = swap16(ld16(ip + 2));
    if (total < kIp + 20 || total > len - kEth) return false;  // longer frames: Ethernet padding
    if ((ld16(ip + 6) & kFragMask) != 0) return false;         // a fragment
    uint32_t s = 0;
#pragma GCC unroll 10
    for (uint32_t i = 0; i < kIp; i += 2) s += ld16(ip + i);
    if (fold32(s) != 0xffff) return false;  // header checksum
    const uint32_t src = ld32(ip + 12);
    const uint32_t dst = ld32(ip + 16);
    const auto first = static_cast<uint8_t>(dst);  // network order: the first octet
    if (first >= 224 || src == 0) return false;     // multicast, broadcast
    const uint8_t* tcp = ip + kIp;
    if ((tcp[12] >> 4) != 5) return false;  // options: lwIP parses them
    const uint32_t seg_len = total - kIp;
    if (!l4_verified) {
        // seg_len << 8 is its byte swap modulo 0xffff (RFC 1071 section 2);
        // the sum is non-zero, so its fold is 0xffff exactly when it is 0
        // modulo 0xffff, as with the swap.
        const uint32_t pseudo =
            ld16(ip + 12) + ld16(ip + 14) + ld16(ip + 16) + ld16(ip + 18) + kProtoWord + (seg_len << 8);
        if (fold32(pseudo + ringlet_chksum(tcp, static_cast<int>(seg_len))) != 0xffff) return false;
    }
    out->src_ip = src;
    out->dst_ip = dst;
    out->src_port = swap16(ld16(tcp));
    out->dst_port = swap16(ld16(tcp + 2));
    out->seqno = be32(tcp + 4);
    out->ackno = be32(tcp + 8);
    out->flags = tcp[13];
    out->wnd = swap16(ld16(tcp + 14));
    out->payload_len = seg_len - 20;
    return true;
}

bool parse_tcp_frame(const uint8_t* f, uint32_t len, bool l4_verified, TcpFrame* out) {
    return parse_frame(f, len, l4_verified, out);
}

TcpFastVerdict tcp_fast_receive(netif* nif, mem::DmaHeap& heap, mem::Buffer* b, uint32_t off, uint32_t len,
                                bool l4_verified) {
    TcpFrame f;
    tcp_pcb* pcb = nullptr;
    bool window_update = false;
    if (!parse_frame(b->data() + off, len, l4_verified, &f) || (f.flags & kFlagsMask & ~TCP_PSH) != TCP_ACK ||
        f.dst_ip != ip4_addr_get_u32(netif_ip4_addr(nif)) || (pcb = find_pcb(nif, f)) == nullptr ||
        !predicted(pcb, f, &window_update)) {
        ++mem::g_dataplane_stats.tcp_fast_fallback;
        return TcpFastVerdict::Lwip;
    }
    pbuf* p = nullptr;
    bool taken = false;
    if (f.payload_len == 0) {
        heap.release(b);  // a pure ACK: nothing to keep
    } else if (tcp_take_direct(pcb, b, off + kTcpHeaders, f.payload_len)) {
        taken = true;  // the app has it: no pbuf, no recv callback
    } else {
        p = wrap_dma(b, off + kTcpHeaders, f.payload_len);  // takes the reference either way
        if (p == nullptr) return TcpFastVerdict::Dropped;   // nothing changed: the peer sends it again
    }
    ++mem::g_dataplane_stats.tcp_fast_hits;
    apply(pcb, f, window_update, p, taken);
    return TcpFastVerdict::Taken;
}

namespace {

using Word16 [[gnu::may_alias]] = uint16_t;
inline void st16(uint8_t* p, uint16_t v) { *reinterpret_cast<Word16*>(p) = v; }
// A 32-bit field in network order, byte by byte (no byte swap).
inline void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// The next hop's MAC for the cached route, from lwIP's ARP table (stable
// entries only), looking at the entry found last time first.
const uint8_t* next_hop_mac(TcpFastTx& c) {
    ip4_addr_t* ip;
    struct netif* nif;
    eth_addr* mac;
    if (c.arp_index >= 0 && etharp_get_entry(static_cast<size_t>(c.arp_index), &ip, &nif, &mac) &&
        ip4_addr_get_u32(ip) == c.hop && nif == c.netif->raw()) {
        return mac->addr;
    }
    ip4_addr_t want;
    ip4_addr_set_u32(&want, c.hop);
    const ip4_addr_t* found;
    const ssize_t i = etharp_find_addr(c.netif->raw(), &want, &mac, &found);
    if (i < 0) return nullptr;
    c.arp_index = static_cast<int32_t>(i);
    return mac->addr;
}

// Whether the 6 bytes at a and b (both 2-aligned) match.
bool same_mac(const uint8_t* a, const uint8_t* b) {
    return ((ld16(a) ^ ld16(b)) | (ld16(a + 2) ^ ld16(b + 2)) | (ld16(a + 4) ^ ld16(b + 4))) == 0;
}

// Builds c's header template for pcb's connection through c.netif to mac
// (which may be the template's own first 6 bytes).
void make_template(TcpFastTx& c, const tcp_pcb* pcb, const uint8_t* mac, uint32_t local, uint32_t remote) {
    uint8_t* f = c.bytes;
    uint8_t dst[6];
    __builtin_memcpy(dst, mac, 6);
    __builtin_memset(f, 0, sizeof c.bytes);
    __builtin_memcpy(f, dst, 6);
    __builtin_memcpy(f + 6, c.netif->mac().bytes, 6);
    st16(f + 12, kTypeIpv4);
    uint8_t* ip = f + kEth;
    ip[0] = 0x45;
    ip[1] = pcb->tos;
    st16(ip + 6, 0x0040);  // DF (0x4000)
    ip[8] = pcb->ttl;
    ip[9] = kProtoTcp;
    st16(ip + 12, static_cast<uint16_t>(local));
    st16(ip + 14, static_cast<uint16_t>(local >> 16));
    st16(ip + 16, static_cast<uint16_t>(remote));
    st16(ip + 18, static_cast<uint16_t>(remote >> 16));
    uint8_t* tcp = ip + kIp;
    st16(tcp, swap16(pcb->local_port));
    st16(tcp + 2, swap16(pcb->remote_port));
    tcp[12] = 5 << 4;  // no options
    uint32_t s = 0;
#pragma GCC unroll 10
    for (uint32_t i = 0; i < kIp; i += 2) s += ld16(ip + i);
    c.ip_sum = s;
    c.pseudo_sum = ld16(ip + 12) + ld16(ip + 14) + ld16(ip + 16) + ld16(ip + 18) + kProtoWord;
    c.ready = true;
}

// Whether tcp_write would queue len bytes as one new segment and
// tcp_output would send it at once: nothing unsent, no reason to wait.
bool sendable_now(const tcp_pcb* pcb, uint32_t len) {
    if (pcb->state != ESTABLISHED || tcp_input_pcb == pcb || pcb->unsent != nullptr || len == 0) return false;
    if ((pcb->flags & (TF_INFR | TF_RTO | TF_FIN | TF_NAGLEMEMERR)) != 0) return false;
    if (pcb->unacked != nullptr && (pcb->flags & TF_NODELAY) == 0) return false;  // Nagle may hold it
    // tcp_write's limits: the send buffer, the queue, one segment's worth.
    if (len > pcb->snd_buf || pcb->snd_queuelen >= TCP_SND_QUEUELEN) return false;
    const uint16_t half_wnd = TCPWND_MIN16(pcb->snd_wnd_max / 2);
    const uint16_t mss = half_wnd != 0 && half_wnd < pcb->mss ? half_wnd : pcb->mss;
    if (len > mss) return false;
    // Everything buffered was sent (snd_lbb == snd_nxt): the new bytes are next.
    if (pcb->snd_lbb != pcb->snd_nxt) return false;
    const uint32_t wnd = pcb->snd_wnd < pcb->cwnd ? pcb->snd_wnd : pcb->cwnd;
    return pcb->snd_nxt - pcb->lastack + len <= wnd;
}

// Copies the 54-byte template to f (2-aligned): words when f is 4-aligned.
void copy_template(uint8_t* f, const uint8_t* t) {
    using Word32 [[gnu::may_alias]] = uint32_t;
    if ((reinterpret_cast<uintptr_t>(f) & 3) == 0) {
        auto* d = reinterpret_cast<Word32*>(f);
        const auto* s = reinterpret_cast<const Word32*>(t);
#pragma GCC unroll 13
        for (uint32_t i = 0; i < 13; ++i) d[i] = s[i];
        st16(f + 52, ld16(t + 52));
    } else {
#pragma GCC unroll 27
        for (uint32_t i = 0; i < kTcpHeaders; i += 2) st16(f + i, ld16(t + i));
    }
}

}  // namespace

void tcp_fast_reset() { g_seg_cached = 0; }

TcpFastSend tcp_fast_send(tcp_pcb* pcb, LwipBackend& be, TcpFastTx& c, mem::Buffer* b, uint32_t start, uint32_t len) {
    if (!sendable_now(pcb, len) || start < kTcpHeaders + be.tx_headroom()) return TcpFastSend::No;
    uint8_t* f = b->data() + start - kTcpHeaders;
    if ((reinterpret_cast<uintptr_t>(f) & 1) != 0) return TcpFastSend::No;
    const uint32_t local = ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip));
    if (c.netif == nullptr || c.netif->address() != local) {
        c.ready = false;
        c.arp_index = -1;
        c.netif = be.route(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)), local, &c.hop);
        if (c.netif == nullptr || c.netif->address() != local) return TcpFastSend::No;
    }
    if (kTcpHeaders - kEth + len > c.netif->mtu()) return TcpFastSend::No;
    const uint8_t* t = c.bytes;
    // The template's MAC stands while lwIP's ARP table cannot have changed
    // since it was checked (g_arp_epoch); else lwIP's table is asked again.
    if (!c.ready || c.arp_epoch != g_arp_epoch) {
        const uint8_t* mac = next_hop_mac(c);
        if (mac == nullptr) return TcpFastSend::No;
        if (!c.ready || !same_mac(mac, t)) make_template(c, pcb, mac, local, ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
        c.arp_epoch = g_arp_epoch;
    }
    if (t[kEth + 1] != pcb->tos || t[kEth + 8] != pcb->ttl) {
        make_template(c, pcb, t, local, ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
    }

    // The segment, as tcp_write would queue it - but its one pbuf is the
    // app's buffer from the TCP header on, wrapped in place: the header
    // lives in the headroom, and a retransmission prepends IPv4 and
    // Ethernet in front of it there (lwIP's path, by reference).
    tcp_seg* seg = get_seg();
    if (seg == nullptr) return TcpFastSend::No;
    pbuf* p = wrap_in_place(b, start - 20, 20 + len);  // its reference goes when lwIP frees the segment
    if (p == nullptr) {
        put_seg(seg);
        return TcpFastSend::No;
    }
    seg->next = nullptr;
    seg->p = p;
    seg->len = static_cast<u16_t>(len);
    seg->flags = 0;
    seg->tcphdr = static_cast<tcp_hdr*>(p->payload);
#if TCP_OVERSIZE_DBGCHECK
    seg->oversize_left = 0;
#endif

    // The frame: the template, then this segment's fields - what
    // tcp_output_segment and ip_output would write.
    copy_template(f, t);
    uint8_t* ip = f + kEth;
    // Fields are stored byte by byte, big-endian (no byte swaps); the sums,
    // kept as native 16-bit words, take a 16-bit field x as x << 8 (its
    // byte swap modulo 0xffff, RFC 1071 section 2). The sums are non-zero,
    // so the folds give exactly the checksums of byte-swapped words.
    const uint32_t total = kIp + 20 + len;
    const uint32_t id = ++c.ip_id;
    inet::put_be16(ip + 2, static_cast<uint16_t>(total));
    inet::put_be16(ip + 4, static_cast<uint16_t>(id));
    st16(ip + 10, static_cast<uint16_t>(~fold32(c.ip_sum + (total << 8) + (id << 8))));
    uint8_t* tcp = ip + kIp;
    const uint32_t seqno = pcb->snd_nxt;
    const uint32_t ackno = pcb->rcv_nxt;
    put_be32(tcp + 4, seqno);
    put_be32(tcp + 8, ackno);
    tcp[13] = TCP_ACK | TCP_PSH;  // tcp_write's PSH on a write's last segment
    inet::put_be16(tcp + 14, TCPWND_MIN16(RCV_WND_SCALE(pcb, pcb->rcv_ann_wnd)));
    if (!c.netif->tx_checksum_offload()) {
        const uint32_t seg_len = 20 + len;
        const uint32_t sum = c.pseudo_sum + (seg_len << 8) + ringlet_chksum(tcp, static_cast<int>(seg_len));
        st16(tcp + 16, static_cast<uint16_t>(~fold32(sum)));
    }

    // tcp_write's bookkeeping for the queued segment.
    pcb->snd_lbb = seqno + len;
    pcb->snd_buf = static_cast<tcpwnd_size_t>(pcb->snd_buf - len);
    pcb->snd_queuelen = static_cast<u16_t>(pcb->snd_queuelen + 1);
    if (!c.netif->transmit_in_place(b, start - kTcpHeaders, kTcpHeaders + len).ok()) {
        pcb->unsent = seg;  // queued after all: tcp_output tries lwIP's way
        return TcpFastSend::Queued;
    }

    // What tcp_output and tcp_output_segment record for a segment sent.
    TCP_STATS_INC(tcp.xmit);
    pcb->rcv_ann_right_edge = ackno + pcb->rcv_ann_wnd;
    if (pcb->rtime < 0) pcb->rtime = 0;  // the retransmission timer runs
    if (pcb->rttest == 0) {
        pcb->rttest = tcp_ticks;
        pcb->rtseq = seqno;
    }
    pcb->persist_backoff = 0;
#if TCP_OVERSIZE
    pcb->unsent_oversize = 0;
#endif
    tcp_clear_flags(pcb, TF_ACK_DELAY | TF_ACK_NOW);  // this segment carries the ACK
    pcb->snd_nxt = seqno + len;
    // Appended after the unacked ones: its bytes follow theirs (snd_nxt).
    tcp_seg** tail = &pcb->unacked;
    while (*tail != nullptr) tail = &(*tail)->next;
    *tail = seg;
    ++mem::g_dataplane_stats.tcp_fast_tx;
    return TcpFastSend::Sent;
}

}  // namespace ringlet::net
