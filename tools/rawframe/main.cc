// rawframe: sends the hostile frame set (tools/rawframe/hostile.h) from the
// host at a guest through a tap interface, and says how many went out.
//
//   rawframe --ifname IF --dst-mac MAC [--src-ip A] [--dst-ip A] [--udp-port N]
//            [--tcp-port N] [--live-port N] [--seed N] [--mutations N]
//            [--inject SOCKET [--inject-all]] [--only NAME] [--gap-us N] [--list]
//            [--syn-flood N] [--ooseq-flood N --ooseq-port PORT]
//
// --inject-all sends every frame through the injector (to check that path
// with a frame the guest answers); --only NAME sends just that frame.
// --syn-flood N and --ooseq-flood N send a flood (flood.h) instead of the
// hostile set: N SYNs to the TCP port from sources that never answer, or N
// out-of-order segments into the established connection from host port
// --ooseq-port (its sequence numbers learnt from the guest first).
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "tools/rawframe/flood.h"
#include "tools/rawframe/hostile.h"
#include "tools/rawframe/probe.h"
#include "tools/rawframe/sender.h"

namespace {

using namespace ringlet::rawframe;

struct Options {
    std::string ifname;
    std::string inject;
    std::string only;
    bool inject_all = false;
    bool have_mac = false;
    Target target;
    unsigned long seed = 1;
    unsigned long mutations = 3000;
    unsigned long gap_us = 200;  // lets QEMU drain the tap queue between frames
    bool list = false;
    unsigned long syn_flood = 0;
    unsigned long ooseq_flood = 0;
    uint16_t ooseq_port = 0;
};

// Resending a frame the tap device dropped: how often, and the pause first.
constexpr int kMaxTries = 50;
constexpr useconds_t kBackoffUs = 2000;

int usage(int code) {
    fputs("usage: rawframe --ifname IF --dst-mac MAC [--src-ip 10.0.2.2] [--dst-ip 10.0.2.15]\n"
          "                [--udp-port 5555] [--tcp-port 5555] [--live-port N] [--seed 1]\n"
          "                [--mutations 3000] [--inject SOCKET [--inject-all]] [--only NAME]\n"
          "                [--gap-us 200] [--list] [--syn-flood N] [--ooseq-flood N --ooseq-port PORT]\n",
          code == 0 ? stdout : stderr);
    return code;
}

bool parse_number(const char* s, unsigned long max, unsigned long& out) {
    char* end = nullptr;
    out = strtoul(s, &end, 0);
    return *s != '\0' && *end == '\0' && out <= max;
}

bool parse_mac(const char* s, Mac& mac) {
    unsigned v[6];
    char extra;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6) return false;
    for (int i = 0; i < 6; ++i) {
        if (v[i] > 0xff) return false;
        mac[static_cast<size_t>(i)] = static_cast<uint8_t>(v[i]);
    }
    return true;
}

bool parse_ip(const char* s, uint32_t& ip) {
    in_addr a{};
    if (inet_pton(AF_INET, s, &a) != 1) return false;
    ip = ntohl(a.s_addr);
    return true;
}

bool parse_args(int argc, char** argv, Options& o) {
    o.target.ep.src_ip = 0x0a000202;
    o.target.ep.dst_ip = 0x0a00020f;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--list" || a == "--inject-all") {
            (a == "--list" ? o.list : o.inject_all) = true;
            continue;
        }
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        unsigned long n = 0;
        bool ok = true;
        if (a == "--ifname") o.ifname = v;
        else if (a == "--inject") o.inject = v;
        else if (a == "--only") o.only = v;
        else if (a == "--dst-mac") ok = o.have_mac = parse_mac(v, o.target.ep.dst_mac);
        else if (a == "--src-ip") ok = parse_ip(v, o.target.ep.src_ip);
        else if (a == "--dst-ip") ok = parse_ip(v, o.target.ep.dst_ip);
        else if (a == "--seed") ok = parse_number(v, ~0ul, o.seed);
        else if (a == "--mutations") ok = parse_number(v, 1000000, o.mutations);
        else if (a == "--gap-us") ok = parse_number(v, 1000000, o.gap_us);
        else if (a == "--udp-port" && (ok = parse_number(v, 65535, n))) o.target.udp_port = static_cast<uint16_t>(n);
        else if (a == "--tcp-port" && (ok = parse_number(v, 65535, n))) o.target.tcp_port = static_cast<uint16_t>(n);
        else if (a == "--live-port" && (ok = parse_number(v, 65535, n))) o.target.live_port = static_cast<uint16_t>(n);
        else if (a == "--syn-flood") ok = parse_number(v, 1000000, o.syn_flood);
        else if (a == "--ooseq-flood") ok = parse_number(v, 1000000, o.ooseq_flood);
        else if (a == "--ooseq-port" && (ok = parse_number(v, 65535, n))) o.ooseq_port = static_cast<uint16_t>(n);
        else ok = false;
        if (!ok) return false;
    }
    if (o.inject_all && o.inject.empty()) return false;
    if ((o.ooseq_flood != 0) != (o.ooseq_port != 0)) return false;
    return o.list || (!o.ifname.empty() && o.have_mac);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "--help") == 0) return usage(0);
    Options o;
    if (!parse_args(argc, argv, o)) return usage(2);
    if (o.target.live_port == kHostileUdpPort || o.target.live_port == kHostileTcpPort) {
        fprintf(stderr, "rawframe: --live-port %u is a port the hostile frames use\n", o.target.live_port);
        return 2;
    }
    Sender* sender = nullptr;
    auto created = o.list ? ringlet::Result<Sender>(ringlet::Error::NotFound) : Sender::create(o.ifname, o.inject);
    if (!o.list) {
        if (!created) {
            fprintf(stderr, "rawframe: cannot open %s%s%s: %s (root or CAP_NET_RAW needed)\n", o.ifname.c_str(),
                    o.inject.empty() ? "" : " or the injector ", o.inject.c_str(), ringlet::error_name(created.error()));
            return 1;
        }
        sender = &*created;
        o.target.ep.src_mac = sender->mac();
    }
    std::vector<HostileFrame> frames;
    if (o.syn_flood != 0 || o.ooseq_flood != 0) {
        if (o.syn_flood != 0) frames = syn_flood(o.target, o.syn_flood, o.seed);
        if (o.ooseq_flood != 0 && sender != nullptr) {
            auto at = learn_sequence(*sender, o.ifname, o.target, o.ooseq_port);
            if (!at) {
                fprintf(stderr, "rawframe: no answer from the guest on port %u's connection: %s\n", o.ooseq_port,
                        ringlet::error_name(at.error()));
                return 1;
            }
            printf("rawframe: ooseq flood: the guest sends from %u and expects %u\n", at->snd_nxt, at->rcv_nxt);
            for (auto& f : ooseq_flood(o.target, o.ooseq_port, *at, o.ooseq_flood)) frames.push_back(std::move(f));
        }
    } else {
        frames = named_frames(o.target);
        for (auto& m : mutated_frames(o.target, o.seed, o.mutations)) frames.push_back(std::move(m));
    }
    if (!o.only.empty()) {
        std::erase_if(frames, [&](const HostileFrame& f) { return f.name != o.only; });
        if (frames.empty()) {
            fprintf(stderr, "rawframe: no frame named '%s' (--list shows them)\n", o.only.c_str());
            return 2;
        }
    }
    const size_t mutations = static_cast<size_t>(std::count_if(
        frames.begin(), frames.end(), [](const HostileFrame& f) { return f.name.starts_with("mutation_"); }));
    if (o.list) {
        for (const auto& f : frames) printf("%s %zu\n", f.name.c_str(), f.bytes.size());
        return 0;
    }
    size_t via_if = 0, via_inject = 0, skipped = 0, resent = 0, lost = 0;
    for (const auto& f : frames) {
        // The tap device drops a frame when QEMU has not read the previous
        // ones yet; its drop counter says so, and the frame goes again after
        // a pause, so every frame reaches the guest however loaded the host.
        int tries = 0;
        for (;;) {
            const uint64_t dropped = sender->tx_dropped();
            std::string why;
            auto path = sender->send(f.bytes, why, o.inject_all);
            if (!path) {
                fprintf(stderr, "rawframe: frame %s (%zu bytes): %s\n", f.name.c_str(), f.bytes.size(), why.c_str());
                return 1;
            }
            if (o.gap_us > 0) usleep(static_cast<useconds_t>(o.gap_us));
            if (*path == Sender::Path::Interface && sender->tx_dropped() != dropped) {
                if (++tries <= kMaxTries) {
                    ++resent;
                    usleep(kBackoffUs);
                    continue;
                }
                ++lost;
            }
            if (*path == Sender::Path::Interface) ++via_if;
            else if (*path == Sender::Path::Injector) ++via_inject;
            else ++skipped;
            break;
        }
    }
    printf("rawframe: sent %zu frames (%zu named, %zu mutations; %zu through %s, %zu through the injector), "
           "skipped %zu, resent %zu after drops, lost %zu\n",
           via_if + via_inject, frames.size() - mutations, mutations, via_if, o.ifname.c_str(), via_inject, skipped,
           resent, lost);
    return 0;
}
