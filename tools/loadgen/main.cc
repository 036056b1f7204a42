// loadgen: UDP/TCP echo load generator. Parses options, runs the workers,
// prints progress on stderr and the summary on stdout; see usage_text().
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "tools/loadgen/net.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/worker.h"

namespace {

using namespace ringlet::loadgen;

// Lock-free, so the signal handler may store to it.
std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int) { g_cancel.store(true, std::memory_order_relaxed); }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

Totals sum(const std::vector<std::unique_ptr<WorkerStats>>& stats) {
    Totals t;
    for (const auto& s : stats) t += s->snapshot();
    return t;
}

bool all_done(const std::vector<std::unique_ptr<WorkerStats>>& stats) {
    for (const auto& s : stats)
        if (!s->done.load(std::memory_order_acquire)) return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const ParseOutcome parsed = parse_options(std::span<const char* const>(argv + 1, argc - 1));
    if (!parsed.ok()) {
        fprintf(stderr, "loadgen: %s\n\n%s", parsed.error.c_str(), usage_text().c_str());
        return 2;
    }
    const Options& options = parsed.options;
    if (options.help) {
        fputs(usage_text().c_str(), stdout);
        return 0;
    }
    auto server = resolve_ipv4(options.host, options.port);
    if (!server) {
        fprintf(stderr, "loadgen: --host: cannot resolve '%s' to an IPv4 address\n", options.host.c_str());
        return 2;
    }
    install_signal_handlers();

    const uint64_t start = now_ns();
    const std::vector<WorkerPlan> plans = make_plans(options, *server, start, &g_cancel);
    std::vector<std::unique_ptr<WorkerStats>> stats;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < plans.size(); ++i) stats.push_back(std::make_unique<WorkerStats>());
    for (size_t i = 0; i < plans.size(); ++i) {
        threads.emplace_back(options.proto == Proto::Udp ? run_udp_worker : run_tcp_worker, std::cref(plans[i]),
                             std::ref(*stats[i]));
    }

    // Progress: poll in short steps so the run ends promptly, print each second.
    Totals before;
    uint64_t last_print = start;
    const bool tty = isatty(STDERR_FILENO);
    while (!all_done(stats)) {
        usleep(20000);
        const uint64_t now = now_ns();
        if (!options.progress || now - last_print < 1000000000ull) continue;
        const Totals t = sum(stats);
        const std::string line =
            format_progress((now - start) / 1e9, t, before, (now - last_print) / 1e9);
        // On a terminal the line rewrites itself; in a log each is kept.
        fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
        before = t;
        last_print = now;
    }
    for (std::thread& t : threads) t.join();
    if (options.progress && tty && last_print != start) fputc('\n', stderr);

    Summary summary;
    uint64_t last = 0;
    for (const auto& s : stats) {
        summary.totals += s->snapshot();
        summary.latency.merge(s->latency());
        last = std::max(last, s->last_completion_ns());
        for (const std::string& m : s->error_messages()) {
            if (summary.error_messages.size() < 8) summary.error_messages.push_back(m);
        }
    }
    summary.elapsed_s = ((last > start ? last : now_ns()) - start) / 1e9;
    const std::string text = options.json ? format_json(options, summary) : format_text(options, summary);
    fputs(text.c_str(), stdout);
    return run_passed(options, summary.totals) ? 0 : 1;
}
