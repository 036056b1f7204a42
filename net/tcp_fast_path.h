// The TCP fast paths: on receive, header prediction (Van Jacobson's, as in
// BSD's tcp_input) in front of lwIP's tcp_input; on send, tcp_write and
// tcp_output for a one-segment push (below, tcp_fast_send).
//
// Most segments of an established connection are predictable: the next
// in-order bytes, acknowledging some of what we sent, flags ACK (and PSH)
// only, no options. For those, tcp_fast_receive() finds the pcb, updates it
// exactly as lwIP's tcp_input/tcp_receive would (send window, acknowledged
// segments freed, RTT sample, congestion window, rcv_nxt and the receive
// window, a delayed ACK), then calls the pcb's sent and recv callbacks with
// the payload still in its RX buffer - skipping lwIP's IP and TCP input,
// pbuf header juggling and generic state machine. Anything else - SYN, FIN,
// RST, URG, options, a gap or an old segment, a duplicate or future ACK, a
// zero or shrinking window, data past our window, out-of-order data queued,
// refused data, fast recovery or RTO recovery, any state but ESTABLISHED -
// goes to lwIP untouched, and is decided before anything is changed. lwIP's
// timers (delayed ACK, retransmission, persist) keep working: the fields
// they read are the ones lwIP itself would have set.
#pragma once

#include <stdint.h>

#include "libos/mem/dma_heap.h"

struct netif;
struct tcp_pcb;

namespace ringlet::net {

class LwipBackend;
class Netif;

// Ethernet II + IPv4 without options + TCP without options.
inline constexpr uint32_t kTcpHeaders = 14 + 20 + 20;

// A segment parse_tcp_frame() accepted. Addresses in network byte order,
// the rest in host order (as lwIP's pcb holds them).
struct TcpFrame {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint32_t seqno;
    uint32_t ackno;
    uint16_t wnd;
    uint8_t flags;  // the TCP header's flag bits
    uint32_t payload_len;  // at kTcpHeaders from the frame's first byte
};

// Whether frame[0, len) (2-aligned) is an Ethernet II IPv4 unicast datagram
// without options, not fragmented, with a right header checksum, carrying a
// TCP segment without options whose checksum is right (or which the NIC
// verified: `l4_verified`). Fills *out. Pure: host-tested on its own.
bool parse_tcp_frame(const uint8_t* frame, uint32_t len, bool l4_verified, TcpFrame* out);

enum class TcpFastVerdict : uint8_t {
    Lwip,     // not for the fast path: the caller gives the frame to lwIP
    Taken,    // handled; the reference to the buffer was taken over
    Dropped,  // for the fast path but no pbuf wrapper was left: dropped (as lwIP would)
};

// The fast path for a TCP frame b->data()[off, off + len) received on `nif`
// (l4_verified: the NIC checked its TCP checksum). Counts hits and misses
// in the dataplane stats; a pure ACK's buffer goes back to `heap`. Only
// call with lwIP idle (not from inside it).
TcpFastVerdict tcp_fast_receive(netif* nif, mem::DmaHeap& heap, mem::Buffer* b, uint32_t off, uint32_t len,
                                bool l4_verified);

// The receiving end of a connection offered a predicted segment's payload,
// b->data()[off, off + len), before any pbuf is made (defined by the TCP
// queue, net/tcp_queue.cc): true if it took the buffer (and the reference)
// for the app at once - a pop was waiting, nothing was queued before it -
// so the receive window stays as it was; false leaves everything to the
// pbuf and recv-callback path. Must not call into lwIP.
bool tcp_take_direct(tcp_pcb* pcb, mem::Buffer* b, uint32_t off, uint32_t len);

// The TCP send fast path: tcp_write and tcp_output for the common case.
// A push that fits one segment, on a connection with nothing unsent and
// nothing to wait for (ESTABLISHED, not in fast or RTO recovery, Nagle off
// or nothing in flight, inside the send and congestion windows and lwIP's
// send buffer and queue limits), from an app buffer the app alone holds
// with the device's headroom free in front of the bytes: tcp_fast_send()
// makes lwIP's tcp_seg for it whose one pbuf is that buffer from the TCP
// header on (an in-place DMA pbuf, net/dma_pbuf.h), writes the Ethernet,
// IPv4 and TCP headers into the headroom from a per-connection template,
// hands the frame to the NIC as one descriptor, and records the segment in
// the pcb exactly as tcp_write and tcp_output would (snd_lbb, snd_buf,
// snd_queuelen, snd_nxt, the unacked queue, the retransmission timer, the
// RTT sample, the ACK flags: the segment carries our ACK). Retransmissions
// are lwIP's, from the same segment. Skipped: tcp_write's two pbufs and
// header allocation, tcp_output_segment, ip_output, etharp_output, the
// netif's copy of lwIP's headers. Anything else: TcpFastSend::No, nothing
// changed (tcp_write and tcp_output as before). IPv4 id: the fast path's
// own counter, with DF set (RFC 6864: an atomic datagram's id need not be
// unique).
struct TcpFastTx {
    Netif* netif = nullptr;   // the route of the last segment sent here
    uint32_t hop = 0;         // its next hop (network order)
    int32_t arp_index = -1;   // where lwIP's ARP table had its MAC
    uint32_t arp_epoch = 0;   // g_arp_epoch (net/netif.h) when the template's MAC was last checked
    uint16_t ip_id = 0;       // the last IPv4 id sent
    bool ready = false;       // the template below is this connection's
    // The connection's headers, built once: Ethernet, IPv4 and TCP with
    // every per-segment field 0, and the sums of their fixed words.
    alignas(8) uint8_t bytes[kTcpHeaders + 2];
    uint32_t ip_sum;      // the IPv4 header's fixed words
    uint32_t pseudo_sum;  // the pseudo-header's addresses and protocol
};
enum class TcpFastSend : uint8_t {
    No,      // not for the fast path: nothing changed
    Sent,    // queued and sent; the caller records the buffer (TcpTxRefs)
    Queued,  // queued, but the NIC refused it: the caller records the buffer and calls tcp_output
};
// Forgets what the fast paths keep of lwIP's memory (a few free tcp_segs):
// call when lwIP is initialised (again), before any fast path runs.
void tcp_fast_reset();

// Pushes b->data()[start, start + len) on pcb; c is the connection's cache.
TcpFastSend tcp_fast_send(tcp_pcb* pcb, LwipBackend& be, TcpFastTx& c, mem::Buffer* b, uint32_t start, uint32_t len);

}  // namespace ringlet::net
