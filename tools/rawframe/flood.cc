#include "tools/rawframe/flood.h"

#include <random>
#include <string>

namespace ringlet::rawframe {

namespace {
constexpr uint16_t kSynFloodFirstPort = 20000;
constexpr uint32_t kOoseqSpan = 8000;  // bytes of window the flood covers (the guest's is 23 KiB)
constexpr uint8_t kFlagsOffset = 13;   // in the TCP header
}  // namespace

std::vector<HostileFrame> syn_flood(const Target& t, size_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<HostileFrame> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        Endpoints ep = t.ep;
        ep.src_ip = (t.ep.src_ip & 0xffffff00u) | static_cast<uint32_t>(100 + i % 100);
        TcpFields f;
        f.src_port = static_cast<uint16_t>(kSynFloodFirstPort + i % 40000);
        f.dst_port = t.tcp_port;
        f.seq = static_cast<uint32_t>(rng());
        f.flags = kSyn;
        out.push_back({"syn_flood_" + std::to_string(i), tcp_frame(ep, f)});
    }
    return out;
}

std::vector<HostileFrame> ooseq_flood(const Target& t, uint16_t host_port, const GuestSequence& at, size_t count) {
    std::vector<HostileFrame> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        TcpFields f;
        f.src_port = host_port;
        f.dst_port = t.tcp_port;
        f.seq = at.rcv_nxt + 2u + 2u * static_cast<uint32_t>(i % (kOoseqSpan / 2));
        f.ack = at.snd_nxt;
        f.flags = kAck;
        f.payload = {static_cast<uint8_t>('a' + i % 26)};
        out.push_back({"ooseq_flood_" + std::to_string(i), tcp_frame(t.ep, f)});
    }
    return out;
}

Frame sequence_probe(const Target& t, uint16_t host_port) {
    TcpFields f;
    f.src_port = host_port;
    f.dst_port = t.tcp_port;
    f.seq = 0x6b8b4567;  // any number: the window is 23 KiB of 4 GiB
    f.ack = f.seq ^ 0x80000000u;
    f.flags = kAck;
    f.payload = {'?'};
    return tcp_frame(t.ep, f);
}

bool parse_guest_ack(std::span<const uint8_t> frame, const Target& t, uint16_t host_port, GuestSequence* out) {
    const Layout l = parse_layout(frame);
    if (!l.valid || l.proto != kProtoTcp || l.l4 + 20 > l.l4_end) return false;
    if (get32(frame, l.ip + 12) != t.ep.dst_ip || get32(frame, l.ip + 16) != t.ep.src_ip) return false;
    if (get16(frame, l.l4) != t.tcp_port || get16(frame, l.l4 + 2) != host_port) return false;
    if ((frame[l.l4 + kFlagsOffset] & kAck) == 0) return false;
    out->snd_nxt = get32(frame, l.l4 + 4);
    out->rcv_nxt = get32(frame, l.l4 + 8);
    return true;
}

}  // namespace ringlet::rawframe
