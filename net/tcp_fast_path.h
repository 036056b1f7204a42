// The TCP receive fast path: header prediction (Van Jacobson's, as in BSD's
// tcp_input) in front of lwIP's tcp_input.
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

namespace ringlet::net {

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

}  // namespace ringlet::net
