#include "tools/loadgen/options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include "tools/loadgen/payload.h"

namespace ringlet::loadgen {
namespace {

// The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP).
constexpr uint32_t kMaxUdpSize = 65507;
// TCP has no message limit; cap it so a typo cannot allocate gigabytes.
constexpr uint32_t kMaxTcpSize = 16u << 20;
constexpr uint32_t kMaxClients = 100000;
constexpr uint32_t kMaxThreads = 64;

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Parses all of `s` as an unsigned decimal integer in [lo, hi].
bool parse_u64(std::string_view s, uint64_t lo, uint64_t hi, uint64_t& out) {
    if (s.empty()) return false;
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (ec != std::errc() || end != s.data() + s.size()) return false;
    if (v < lo || v > hi) return false;
    out = v;
    return true;
}

// Parses all of `s` as a finite decimal number > 0.
bool parse_positive(std::string_view s, double& out) {
    if (s.empty()) return false;
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return false;
    if (!std::isfinite(v) || v <= 0) return false;
    out = v;
    return true;
}

// Parses "64", "64,1024,64" or "64-1024" into `mix`; returns an error or "".
std::string parse_sizes(std::string_view s, SizeMix& mix) {
    const std::string bad = "--sizes: expected N, N,N,... or LO-HI in bytes, got " + quoted(s);
    SizeMix out;
    out.list.clear();
    if (const size_t dash = s.find('-'); dash != std::string_view::npos) {
        uint64_t lo = 0, hi = 0;
        if (!parse_u64(s.substr(0, dash), 0, UINT32_MAX, lo) ||
            !parse_u64(s.substr(dash + 1), 0, UINT32_MAX, hi) || lo > hi)
            return bad;
        out.is_range = true;
        out.lo = static_cast<uint32_t>(lo);
        out.hi = static_cast<uint32_t>(hi);
        mix = out;
        return "";
    }
    while (true) {
        const size_t comma = s.find(',');
        uint64_t v = 0;
        if (!parse_u64(s.substr(0, comma), 0, UINT32_MAX, v)) return bad;
        out.list.push_back(static_cast<uint32_t>(v));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    mix = out;
    return "";
}

// Cross-field checks, run once every option has been read.
std::string validate(const Options& o) {
    const uint32_t max_size = o.proto == Proto::Udp ? kMaxUdpSize : kMaxTcpSize;
    if (o.sizes.smallest() < kHeaderSize)
        return "--size: " + std::to_string(o.sizes.smallest()) + " is below the " +
               std::to_string(kHeaderSize) + "-byte header (magic, length, sequence number)";
    if (o.sizes.largest() > max_size)
        return "--size: " + std::to_string(o.sizes.largest()) + " exceeds the " +
               (o.proto == Proto::Udp ? "UDP" : "TCP") + " limit of " + std::to_string(max_size);
    if (o.threads > o.clients)
        return "--threads (" + std::to_string(o.threads) + ") exceeds --clients (" +
               std::to_string(o.clients) + "): each thread needs at least one client";
    return "";
}

}  // namespace

uint32_t SizeMix::smallest() const {
    if (is_range) return lo;
    return list.empty() ? 0 : *std::min_element(list.begin(), list.end());
}

uint32_t SizeMix::largest() const {
    if (is_range) return hi;
    return list.empty() ? 0 : *std::max_element(list.begin(), list.end());
}

ParseOutcome parse_options(std::span<const char* const> args) {
    ParseOutcome r;
    Options& o = r.options;
    bool bounded = false;
    auto fail = [&r](std::string msg) {
        r.error = std::move(msg);
        return r;
    };
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i] ? args[i] : "";
        std::string_view value;
        bool has_inline = false;
        if (const size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        // Flags take no value; reject "--json=1" rather than guess.
        auto flag = [&](bool& field) {
            if (has_inline) return std::string(arg) + ": takes no value";
            field = true;
            return std::string();
        };
        auto need = [&]() -> bool {
            if (has_inline) return true;
            if (i + 1 >= args.size() || !args[i + 1]) return false;
            value = args[++i];
            return true;
        };
        auto expected = [&](const char* what) {
            return std::string(arg) + ": expected " + what + ", got " + quoted(value);
        };
        std::string err;
        uint64_t u = 0;
        if (arg == "--help" || arg == "-h") {
            err = flag(o.help);
        } else if (arg == "--json") {
            err = flag(o.json);
        } else if (arg == "--allow-timeouts") {
            bool set = false;
            err = flag(set);
            o.max_timeouts = UINT64_MAX;
        } else if (arg == "--no-progress") {
            bool set = false;
            err = flag(set);
            o.progress = !set;
        } else if (arg == "--proto" || arg == "--host" || arg == "--port" || arg == "--clients" ||
                   arg == "--rate" || arg == "--arrival" || arg == "--size" || arg == "--sizes" ||
                   arg == "--duration" || arg == "--requests" || arg == "--timeout-ms" ||
                   arg == "--connect-timeout-ms" || arg == "--max-timeouts" ||
                   arg == "--threads" || arg == "--seed") {
            if (!need()) return fail(std::string(arg) + ": missing value");
            if (arg == "--proto") {
                if (value == "udp") o.proto = Proto::Udp;
                else if (value == "tcp") o.proto = Proto::Tcp;
                else err = expected("udp or tcp");
            } else if (arg == "--host") {
                if (value.empty()) err = expected("a host name or IPv4 address");
                o.host = std::string(value);
            } else if (arg == "--port") {
                if (!parse_u64(value, 1, 65535, u)) err = expected("a port in 1..65535");
                o.port = static_cast<uint16_t>(u);
            } else if (arg == "--clients") {
                if (!parse_u64(value, 1, kMaxClients, u))
                    err = expected(("an integer in 1.." + std::to_string(kMaxClients)).c_str());
                o.clients = static_cast<uint32_t>(u);
            } else if (arg == "--threads") {
                if (!parse_u64(value, 1, kMaxThreads, u))
                    err = expected(("an integer in 1.." + std::to_string(kMaxThreads)).c_str());
                o.threads = static_cast<uint32_t>(u);
            } else if (arg == "--rate") {
                if (!parse_positive(value, o.rate)) err = expected("a positive number of requests/s");
            } else if (arg == "--arrival") {
                if (value == "poisson") o.arrival = Arrival::Poisson;
                else if (value == "fixed") o.arrival = Arrival::Fixed;
                else err = expected("poisson or fixed");
            } else if (arg == "--size") {
                if (!parse_u64(value, 0, UINT32_MAX, u)) err = expected("a size in bytes");
                o.sizes = SizeMix{};
                o.sizes.list = {static_cast<uint32_t>(u)};
            } else if (arg == "--sizes") {
                err = parse_sizes(value, o.sizes);
            } else if (arg == "--duration") {
                if (!parse_positive(value, o.duration_s)) err = expected("a positive number of seconds");
                bounded = true;
            } else if (arg == "--requests") {
                if (!parse_u64(value, 1, UINT64_MAX, o.requests)) err = expected("a positive integer");
                bounded = true;
            } else if (arg == "--timeout-ms") {
                if (!parse_u64(value, 1, 3600000, u)) err = expected("milliseconds in 1..3600000");
                o.timeout_ms = static_cast<uint32_t>(u);
            } else if (arg == "--connect-timeout-ms") {
                if (!parse_u64(value, 1, 3600000, u)) err = expected("milliseconds in 1..3600000");
                o.connect_timeout_ms = static_cast<uint32_t>(u);
            } else if (arg == "--max-timeouts") {
                if (!parse_u64(value, 0, UINT64_MAX, o.max_timeouts)) err = expected("an unsigned integer");
            } else if (arg == "--seed") {
                if (!parse_u64(value, 0, UINT64_MAX, o.seed)) err = expected("an unsigned integer");
            }
        } else {
            err = "unknown option " + quoted(arg) + " (see --help)";
        }
        if (!err.empty()) return fail(std::move(err));
    }
    if (o.help) return r;
    // Neither bound given: a short default run rather than one that never ends.
    if (!bounded) o.duration_s = 10;
    return fail(validate(o));
}

std::string usage_text() {
    return R"(usage: loadgen [options]
UDP/TCP echo load generator; checks every echoed byte.

  --proto udp|tcp        protocol (udp)
  --host H               server name or IPv4 address (127.0.0.1)
  --port P               server port (5555)
  --clients N            closed loop: N clients, one request outstanding each;
                         open loop: sockets/connections to spread requests over (1)
  --rate R               open loop at R requests/s in total (default: closed loop)
  --arrival poisson|fixed  open-loop spacing (poisson)
  --size B               payload bytes, at least 16 (64)
  --sizes A,B,..|LO-HI   size mix: uniform over the list (repeat to weight) or range
  --duration S           stop issuing after S seconds (10 if no --requests)
  --requests N           stop after N requests in total
  --timeout-ms T         a request unanswered for T ms is a timeout (1000)
  --connect-timeout-ms T a TCP connect unfinished after T ms is an error (5000)
  --threads T            worker threads, each with its own epoll (1)
  --seed S               seed for the size mix and Poisson arrivals (1)
  --json                 print the summary as JSON on stdout
  --no-progress          no progress line on stderr
  --max-timeouts N       up to N timeouts do not make the exit status non-zero (0)
  --allow-timeouts       no number of timeouts does

Exit status: 0 if every request was answered with the right bytes, 1 on any
error, timeout or mismatch (or no response at all), 2 on bad usage.
)";
}

}  // namespace ringlet::loadgen
