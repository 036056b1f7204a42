#include "net/tcp_fast_path.h"

#include "libos/mem/dataplane_stats.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "net/checksum.h"
#include "net/dma_pbuf.h"
#include "net/inet_sum.h"

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
inline uint32_t be32(const uint8_t* p) { return static_cast<uint32_t>(swap16(ld16(p))) << 16 | swap16(ld16(p + 2)); }

constexpr uint16_t kTypeIpv4 = 0x0008;   // 0x0800 as a native load sees it
constexpr uint16_t kFragMask = 0xff3f;   // 0x3fff: MF and the offset
constexpr uint16_t kProtoWord = 0x0600;  // the pseudo-header's 0x0006

// The flags the prediction allows: ACK, and PSH with it. SYN, FIN, RST and
// URG (and ECN's bits) all go to lwIP.
constexpr uint8_t kFlagsMask = TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG | 0xc0;

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
    while (pcb->unacked != nullptr &&
           TCP_SEQ_LEQ(lwip_ntohl(pcb->unacked->tcphdr->seqno) + TCP_TCPLEN(pcb->unacked), ackno)) {
        tcp_seg* s = pcb->unacked;
        pcb->unacked = s->next;
        pcb->snd_queuelen = static_cast<u16_t>(pcb->snd_queuelen - pbuf_clen(s->p));
        freed += s->len;
        tcp_seg_free(s);
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

// Applies a predicted segment to pcb and runs the app's callbacks, as
// tcp_input does after tcp_process. p: the payload (nullptr: a pure ACK).
void apply(tcp_pcb* pcb, const TcpFrame& f, bool window_update, pbuf* p) {
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
        (void)tcp_update_rcv_ann_wnd(pcb);
        tcp_ack(pcb);  // delayed: the reply, or the fast timer, carries it
        if ((f.flags & TCP_PSH) != 0) p->flags |= PBUF_FLAG_PUSH;
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

bool parse_tcp_frame(const uint8_t* f, uint32_t len, bool l4_verified, TcpFrame* out) {
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
        const uint32_t pseudo = ld16(ip + 12) + ld16(ip + 14) + ld16(ip + 16) + ld16(ip + 18) + kProtoWord +
                                swap16(static_cast<uint16_t>(seg_len));
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

TcpFastVerdict tcp_fast_receive(netif* nif, mem::DmaHeap& heap, mem::Buffer* b, uint32_t off, uint32_t len,
                                bool l4_verified) {
    TcpFrame f;
    tcp_pcb* pcb = nullptr;
    bool window_update = false;
    if (!parse_tcp_frame(b->data() + off, len, l4_verified, &f) || (f.flags & kFlagsMask & ~TCP_PSH) != TCP_ACK ||
        f.dst_ip != ip4_addr_get_u32(netif_ip4_addr(nif)) || (pcb = find_pcb(nif, f)) == nullptr ||
        !predicted(pcb, f, &window_update)) {
        ++mem::g_dataplane_stats.tcp_fast_fallback;
        return TcpFastVerdict::Lwip;
    }
    pbuf* p = nullptr;
    if (f.payload_len > 0) {
        p = wrap_dma(b, off + kTcpHeaders, f.payload_len);  // takes the reference either way
        if (p == nullptr) return TcpFastVerdict::Dropped;   // nothing changed: the peer sends it again
    } else {
        heap.release(b);  // a pure ACK: nothing to keep
    }
    ++mem::g_dataplane_stats.tcp_fast_hits;
    apply(pcb, f, window_update, p);
    return TcpFastVerdict::Taken;
}

}  // namespace ringlet::net
