// Options: the loadgen command line, parsed and validated in one place so that
// the workers can trust every field.
#pragma once

#include <stdint.h>

#include <span>
#include <string>
#include <vector>

namespace ringlet::loadgen {

enum class Proto { Udp, Tcp };
enum class Arrival { Poisson, Fixed };

// Which payload sizes to send: one of `list` picked uniformly (repeat a size
// to weight it), or, when `is_range`, uniform in [lo, hi].
struct SizeMix {
    std::vector<uint32_t> list{64};
    bool is_range = false;
    uint32_t lo = 0;
    uint32_t hi = 0;

    uint32_t smallest() const;
    uint32_t largest() const;
};

struct Options {
    Proto proto = Proto::Udp;
    std::string host = "127.0.0.1";
    uint16_t port = 5555;
    // Closed loop: sockets/connections with one request outstanding each.
    // Open loop: sockets/connections the request stream is spread over.
    uint32_t clients = 1;
    double rate = 0;  // requests/s in total; 0 selects the closed loop
    Arrival arrival = Arrival::Poisson;
    SizeMix sizes;
    double duration_s = 0;   // 0: not bounded by time
    uint64_t requests = 0;   // 0: not bounded by count
    uint32_t timeout_ms = 1000;
    // Longer than TCP's first SYN retransmission (1 s): a dropped SYN, as
    // QEMU's user network drops them when its accept queue is full, is slow,
    // not broken.
    uint32_t connect_timeout_ms = 5000;
    uint32_t threads = 1;
    uint64_t seed = 1;
    bool json = false;
    bool progress = true;
    // Timeouts the run may have and still pass (all of them with
    // --allow-timeouts): a datagram lost on an unreliable path is not a
    // wrong answer, and a test may say how many it tolerates.
    uint64_t max_timeouts = 0;
    bool help = false;

    bool closed_loop() const { return rate == 0; }
};

// Either options or a message for the user; errors are values.
struct ParseOutcome {
    Options options;
    std::string error;  // empty on success

    bool ok() const { return error.empty(); }
};

// Parses argv[1..] (`args` excludes the program name) into validated options;
// on bad input returns a one-line error that names the offending option.
ParseOutcome parse_options(std::span<const char* const> args);

// The usage text printed for --help and after a parse error.
std::string usage_text();

}  // namespace ringlet::loadgen
