#include "tools/loadgen/report.h"

#include <stdio.h>

namespace ringlet::loadgen {
namespace {

std::string fmt(const char* f, double v) {
    char buf[64];
    snprintf(buf, sizeof(buf), f, v);
    return buf;
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string mode_text(const Options& o) {
    if (o.closed_loop()) return "closed loop, " + std::to_string(o.clients) + " clients";
    return "open loop at " + fmt("%.0f", o.rate) + " req/s (" +
           (o.arrival == Arrival::Poisson ? "poisson" : "fixed") + "), " +
           std::to_string(o.clients) + " " + (o.proto == Proto::Tcp ? "connections" : "sockets");
}

std::string sizes_text(const SizeMix& m) {
    if (m.is_range) return std::to_string(m.lo) + "-" + std::to_string(m.hi);
    std::string s;
    for (size_t i = 0; i < m.list.size(); ++i) s += (i ? "," : "") + std::to_string(m.list[i]);
    return s;
}

double rate(uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

}  // namespace

bool run_passed(const Options& options, const Totals& t) {
    return t.completed > 0 && t.errors == 0 && t.failed == 0 && t.mismatched_responses == 0 &&
           t.mismatched_bytes == 0 &&
           t.timeouts <= options.max_timeouts;
}

std::string format_text(const Options& o, const Summary& s) {
    const Totals& t = s.totals;
    const Histogram& h = s.latency;
    std::string out;
    out += "loadgen: " + std::string(o.proto == Proto::Udp ? "udp" : "tcp") + " " + o.host + ":" +
           std::to_string(o.port) + ", " + mode_text(o) + ", sizes " + sizes_text(o.sizes) + " B, " +
           fmt("%.2f", s.elapsed_s) + " s\n";
    out += "requests    sent " + std::to_string(t.sent) + "  ok " + std::to_string(t.completed) +
           "  timeouts " + std::to_string(t.timeouts) + "  failed " + std::to_string(t.failed) +
           "  errors " + std::to_string(t.errors) +
           "  late " + std::to_string(t.late) + "\n";
    out += "throughput  " + fmt("%.1f", rate(t.completed, s.elapsed_s)) + " req/s, " +
           fmt("%.2f", rate(t.bytes_received, s.elapsed_s) / 1e6) + " MB/s echoed\n";
    out += "latency us  min " + fmt("%.1f", us(h.min())) + "  p50 " + fmt("%.1f", us(h.value_at_percentile(50))) +
           "  p90 " + fmt("%.1f", us(h.value_at_percentile(90))) + "  p99 " +
           fmt("%.1f", us(h.value_at_percentile(99))) + "  p99.9 " +
           fmt("%.1f", us(h.value_at_percentile(99.9))) + "  max " + fmt("%.1f", us(h.max())) + "  mean " +
           fmt("%.1f", h.mean() / 1000.0) + "\n";
    out += "integrity   mismatched responses " + std::to_string(t.mismatched_responses) +
           "  mismatched bytes " + std::to_string(t.mismatched_bytes) + "\n";
    for (const std::string& m : s.error_messages) out += "error       " + m + "\n";
    out += std::string("result      ") + (run_passed(o, t) ? "PASS" : "FAIL") + "\n";
    return out;
}

std::string json_quote(const std::string& s) {
    std::string out = "\"";
    for (const char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string format_json(const Options& o, const Summary& s) {
    const Totals& t = s.totals;
    const Histogram& h = s.latency;
    auto u = [](uint64_t v) { return std::to_string(v); };
    auto p = [&](double pct) { return fmt("%.3f", us(h.value_at_percentile(pct))); };
    std::string out = "{";
    out += "\"proto\":" + json_quote(o.proto == Proto::Udp ? "udp" : "tcp");
    out += ",\"host\":" + json_quote(o.host) + ",\"port\":" + u(o.port);
    out += ",\"mode\":" + json_quote(o.closed_loop() ? "closed" : "open");
    out += ",\"clients\":" + u(o.clients) + ",\"threads\":" + u(o.threads);
    out += ",\"rate\":" + fmt("%.3f", o.rate);
    out += ",\"arrival\":" + json_quote(o.arrival == Arrival::Poisson ? "poisson" : "fixed");
    out += ",\"sizes\":" + json_quote(sizes_text(o.sizes));
    out += ",\"elapsed_s\":" + fmt("%.6f", s.elapsed_s);
    out += ",\"sent\":" + u(t.sent) + ",\"completed\":" + u(t.completed);
    out += ",\"timeouts\":" + u(t.timeouts) + ",\"failed\":" + u(t.failed) + ",\"errors\":" + u(t.errors);
    out += ",\"late\":" + u(t.late);
    out += ",\"mismatched_responses\":" + u(t.mismatched_responses);
    out += ",\"mismatched_bytes\":" + u(t.mismatched_bytes);
    out += ",\"bytes_sent\":" + u(t.bytes_sent) + ",\"bytes_received\":" + u(t.bytes_received);
    out += ",\"requests_per_s\":" + fmt("%.3f", rate(t.completed, s.elapsed_s));
    out += ",\"latency_us\":{\"min\":" + fmt("%.3f", us(h.min())) + ",\"mean\":" + fmt("%.3f", h.mean() / 1000.0);
    out += ",\"p50\":" + p(50) + ",\"p90\":" + p(90) + ",\"p99\":" + p(99) + ",\"p99.9\":" + p(99.9);
    out += ",\"max\":" + fmt("%.3f", us(h.max())) + "}";
    out += ",\"error_messages\":[";
    for (size_t i = 0; i < s.error_messages.size(); ++i) out += (i ? "," : "") + json_quote(s.error_messages[i]);
    out += "],\"passed\":" + std::string(run_passed(o, t) ? "true" : "false") + "}\n";
    return out;
}

std::string format_progress(double t_s, const Totals& now, const Totals& before, double dt_s) {
    const uint64_t done = now.completed - before.completed;
    const double mean_us = done ? static_cast<double>(now.latency_sum_ns - before.latency_sum_ns) / done / 1000.0 : 0;
    return "[" + fmt("%5.1f", t_s) + " s] " + fmt("%9.0f", rate(done, dt_s)) + " req/s  mean " +
           fmt("%8.1f", mean_us) + " us  ok " + std::to_string(now.completed) + "  timeouts " +
           std::to_string(now.timeouts) + "  errors " + std::to_string(now.errors) + "  mismatched " +
           std::to_string(now.mismatched_bytes) + " B";
}

}  // namespace ringlet::loadgen
