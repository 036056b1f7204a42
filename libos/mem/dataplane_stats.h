// Counters that make the dataplane's zero-copy claim checkable: every place
// that copies payload bytes (rather than headers) adds them here, so a test
// can assert the count stays 0 for an echo, and `ringlet_demi_stats` shows
// it to apps. One libOS instance per core: the counters are thread-local
// (per core, through tp on Ringlet), written only by that core.
#pragma once

#include <stdint.h>

namespace ringlet::mem {

struct DataplaneStats {
    uint64_t payload_bytes_copied = 0;  // payload bytes moved by a CPU copy, any path
    uint64_t rx_lent = 0;               // received payloads handed to the app in their RX buffer
    uint64_t rx_copied = 0;             // received payloads copied (chained/fragmented, or heap pressure)
    uint64_t tx_in_place = 0;           // frames sent from the app's buffer with headers prepended in place
    uint64_t tx_by_reference = 0;       // frames whose payload went to the device by reference
    // Remote-input limits (net/queues.h): what a flooding peer was refused.
    uint64_t udp_rx_dropped = 0;        // datagrams dropped at a full UDP receive backlog
    uint64_t tcp_half_open_evicted = 0; // half-open connections evicted by a SYN to a full listener
    uint64_t tcp_syn_dropped = 0;       // SYNs dropped at a listener full of recent half-open ones
    // The TCP fast paths (net/tcp_fast_path.h): segments the receive side
    // handled, TCP segments it left to lwIP's input, segments sent without
    // tcp_output.
    uint64_t tcp_fast_hits = 0;
    uint64_t tcp_fast_fallback = 0;
    uint64_t tcp_fast_tx = 0;
};

inline thread_local DataplaneStats g_dataplane_stats;  // per core

inline void count_payload_copy(uint64_t bytes) { g_dataplane_stats.payload_bytes_copied += bytes; }

}  // namespace ringlet::mem
