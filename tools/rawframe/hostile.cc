// The hostile set. Names are "<layer>_<what is wrong>"; the tests in
// tests/tools/rawframe check that each frame is what its name says.
#include "tools/rawframe/hostile.h"

#include <random>

namespace ringlet::rawframe {

namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
    return v;
}

TcpFields to_listener(const Target& t, uint8_t flags) {
    TcpFields s;
    s.src_port = kHostileTcpPort;
    s.dst_port = t.tcp_port;
    s.seq = 0x1000;
    s.flags = flags;
    return s;
}

// Sets the IPv4 header's byte `at` and repairs the header checksum, so the
// one broken rule is the one named.
Frame ip_byte(Frame f, size_t at, uint8_t v) {
    f[kEthHeader + at] = v;
    fix_checksums(f);
    return f;
}

Frame ip_total_length(Frame f, uint16_t total) {
    put16(f, kEthHeader + 2, total);
    fix_checksums(f);
    return f;
}

// One fragment: `part` is the slice [offset, offset + part.size()) of the
// IPv4 payload of a datagram with this id.
Frame fragment(const Endpoints& ep, uint8_t proto, uint16_t id, size_t offset, std::span<const uint8_t> part,
               bool more) {
    Ipv4Fields f;
    f.id = id;
    f.frag = static_cast<uint16_t>((more ? 0x2000 : 0) | (offset / 8));
    return ipv4_frame(ep, proto, part, f);
}

void add_runts(const Target& t, std::vector<HostileFrame>& out) {
    const Frame udp = valid_udp(t);
    out.push_back({"runt_1_byte", Frame(udp.begin(), udp.begin() + 1)});
    out.push_back({"runt_13_bytes", Frame(udp.begin(), udp.begin() + 13)});
    out.push_back({"runt_ethernet_header_only", Frame(udp.begin(), udp.begin() + kEthHeader)});
    out.push_back({"runt_ipv4_header_cut", Frame(udp.begin(), udp.begin() + 30)});
    Frame arp = arp_request(t.ep, t.ep.dst_ip);
    out.push_back({"runt_arp_cut", Frame(arp.begin(), arp.begin() + 30)});
    out.push_back({"runt_valid_udp_59_bytes", udp_frame(t.ep, kHostileUdpPort, t.udp_port, bytes(17, 'a'))});
    out.push_back({"runt_tcp_header_cut", ipv4_frame(t.ep, kProtoTcp, bytes(10, 1))});
}

void add_oversized(const Target& t, std::vector<HostileFrame>& out) {
    out.push_back({"oversized_1515_bytes", udp_frame(t.ep, kHostileUdpPort, t.udp_port, bytes(1473, 2))});
    out.push_back({"oversized_9014_bytes", udp_frame(t.ep, kHostileUdpPort, t.udp_port, bytes(8972, 3))});
    out.push_back({"oversized_65549_bytes", udp_frame(t.ep, kHostileUdpPort, t.udp_port, bytes(65507, 4))});
}

void add_ethertypes(const Target& t, std::vector<HostileFrame>& out) {
    const Frame udp = valid_udp(t);
    std::span<const uint8_t> ip(udp.data() + kEthHeader, udp.size() - kEthHeader);
    out.push_back({"ethertype_unknown", ethernet(t.ep, 0x88b5, ip)});
    out.push_back({"ethertype_ipv6", ethernet(t.ep, 0x86dd, bytes(48, 5))});
    std::vector<uint8_t> tagged{0x00, 0x05, 0x08, 0x00};  // VLAN 5, then IPv4
    tagged.insert(tagged.end(), ip.begin(), ip.end());
    out.push_back({"ethertype_vlan_tagged", ethernet(t.ep, 0x8100, tagged)});
    out.push_back({"ethertype_802_3_length", ethernet(t.ep, 0x0040, bytes(64, 6))});
}

void add_ipv4(const Target& t, std::vector<HostileFrame>& out) {
    const Frame udp = valid_udp(t);
    out.push_back({"ipv4_version_6", ip_byte(udp, 0, 0x65)});
    out.push_back({"ipv4_ihl_4", ip_byte(udp, 0, 0x44)});
    Frame ihl = udp;
    ihl[kEthHeader] = 0x4f;  // a 60-byte header in a 36-byte packet: no checksum to repair
    out.push_back({"ipv4_ihl_15_beyond_packet", ihl});
    out.push_back({"ipv4_total_length_beyond_frame", ip_total_length(udp, static_cast<uint16_t>(udp.size() + 100))});
    out.push_back({"ipv4_total_length_below_header", ip_total_length(udp, 12)});
    out.push_back({"ipv4_total_length_cuts_udp_header", ip_total_length(udp, 24)});
    Frame bad = udp;
    bad[kEthHeader + 10] ^= 0x5a;
    out.push_back({"ipv4_bad_header_checksum", bad});
    Ipv4Fields opts;
    opts.options = {0x07, 39, 4, 0};  // record route claiming 39 bytes in a 4-byte option area
    out.push_back({"ipv4_options_overrun",
                   ipv4_frame(t.ep, kProtoUdp, std::span(udp).subspan(kEthHeader + kIpv4Header), opts)});
    out.push_back({"ipv4_ttl_0", ip_byte(udp, 8, 0)});
    Endpoints bcast = t.ep;
    bcast.src_ip = 0xffffffff;
    out.push_back({"ipv4_source_broadcast", udp_frame(bcast, kHostileUdpPort, t.udp_port, bytes(8, 7))});
    Endpoints other = t.ep;
    other.dst_ip = (t.ep.dst_ip & 0xffffff00) | 0x63;
    out.push_back({"ipv4_destination_other_host", udp_frame(other, kHostileUdpPort, t.udp_port, bytes(8, 8))});
    out.push_back({"ipv4_protocol_unknown", ipv4_frame(t.ep, 253, bytes(16, 9))});
    Endpoints land = t.ep;
    land.src_ip = t.ep.dst_ip;
    TcpFields syn = to_listener(t, kSyn);
    syn.src_port = t.tcp_port;
    out.push_back({"ipv4_land_tcp_syn_from_guest_itself", tcp_frame(land, syn)});
}

void add_fragments(const Target& t, std::vector<HostileFrame>& out) {
    const Frame udp = udp_frame(t.ep, kHostileUdpPort, t.udp_port, bytes(64, 10));
    const std::span<const uint8_t> dgram = std::span(udp).subspan(kEthHeader + kIpv4Header);  // 72 bytes
    out.push_back({"ipv4_fragment_first_only", fragment(t.ep, kProtoUdp, 100, 0, dgram.subspan(0, 32), true)});
    out.push_back({"ipv4_fragment_last_only", fragment(t.ep, kProtoUdp, 101, 32, dgram.subspan(32), false)});
    out.push_back({"ipv4_fragment_overlap_a", fragment(t.ep, kProtoUdp, 102, 0, dgram.subspan(0, 40), true)});
    out.push_back({"ipv4_fragment_overlap_b", fragment(t.ep, kProtoUdp, 102, 16, dgram.subspan(16), false)});
    out.push_back({"ipv4_fragment_duplicate_a", fragment(t.ep, kProtoUdp, 103, 0, dgram.subspan(0, 32), true)});
    out.push_back({"ipv4_fragment_duplicate_b", fragment(t.ep, kProtoUdp, 103, 0, dgram.subspan(0, 32), true)});
    out.push_back({"ipv4_fragment_beyond_64k", fragment(t.ep, kProtoUdp, 104, 65512, dgram.subspan(0, 40), false)});
    out.push_back({"ipv4_fragment_zero_length", fragment(t.ep, kProtoUdp, 105, 0, {}, true)});
    // A SYN whose TCP header is split after 8 bytes (ports and sequence only).
    const Frame syn = tcp_frame(t.ep, to_listener(t, kSyn));
    const std::span<const uint8_t> seg = std::span(syn).subspan(kEthHeader + kIpv4Header);
    out.push_back({"ipv4_fragment_tiny_tcp_header_a", fragment(t.ep, kProtoTcp, 106, 0, seg.subspan(0, 8), true)});
    out.push_back({"ipv4_fragment_tiny_tcp_header_b", fragment(t.ep, kProtoTcp, 106, 8, seg.subspan(8), false)});
    // More datagrams in reassembly than lwIP has slots for.
    for (uint16_t i = 0; i < 40; ++i) {
        out.push_back({"ipv4_fragment_flood_" + std::to_string(i),
                       fragment(t.ep, kProtoUdp, static_cast<uint16_t>(200 + i), 0, dgram.subspan(0, 48), true)});
    }
}

void add_udp(const Target& t, std::vector<HostileFrame>& out) {
    const Frame udp = valid_udp(t);
    const size_t u = kEthHeader + kIpv4Header;
    auto with_length = [&](uint16_t len) {
        Frame f = udp;
        put16(f, u + 4, len);
        fix_checksums(f);
        return f;
    };
    out.push_back({"udp_length_beyond_packet", with_length(static_cast<uint16_t>(udp.size() - u + 50))});
    out.push_back({"udp_length_below_header", with_length(4)});
    out.push_back({"udp_length_zero", with_length(0)});
    Frame bad = udp;
    bad[u + 6] ^= 0x5a;
    out.push_back({"udp_bad_checksum", bad});
    Frame absent = udp;
    put16(absent, u + 6, 0);
    out.push_back({"udp_checksum_absent", absent});
    out.push_back({"udp_to_closed_port", udp_frame(t.ep, kHostileUdpPort, kClosedPort, bytes(8, 11))});
    out.push_back({"udp_to_port_0", udp_frame(t.ep, kHostileUdpPort, 0, bytes(8, 12))});
}

void add_tcp(const Target& t, std::vector<HostileFrame>& out) {
    const size_t s = kEthHeader + kIpv4Header;
    auto with_offset = [&](uint8_t words) {
        Frame f = tcp_frame(t.ep, to_listener(t, kSyn));
        f[s + 12] = static_cast<uint8_t>(words << 4);
        fix_checksums(f);
        return f;
    };
    out.push_back({"tcp_data_offset_below_5", with_offset(2)});
    out.push_back({"tcp_data_offset_beyond_segment", with_offset(15)});
    Frame bad = tcp_frame(t.ep, to_listener(t, kSyn));
    bad[s + 16] ^= 0x5a;
    out.push_back({"tcp_bad_checksum", bad});
    out.push_back({"tcp_syn_fin", tcp_frame(t.ep, to_listener(t, kSyn | kFin))});
    out.push_back({"tcp_all_flags", tcp_frame(t.ep, to_listener(t, 0x3f))});
    out.push_back({"tcp_no_flags", tcp_frame(t.ep, to_listener(t, 0))});
    out.push_back({"tcp_rst_no_connection", tcp_frame(t.ep, to_listener(t, kRst))});
    out.push_back({"tcp_ack_no_connection", tcp_frame(t.ep, to_listener(t, kAck))});
    out.push_back({"tcp_fin_no_connection", tcp_frame(t.ep, to_listener(t, kFin | kAck))});
    auto syn_with_options = [&](std::vector<uint8_t> options) {
        TcpFields f = to_listener(t, kSyn);
        f.options = std::move(options);
        return tcp_frame(t.ep, f);
    };
    out.push_back({"tcp_options_overrun", syn_with_options({2, 40, 0x05, 0xb4})});
    out.push_back({"tcp_option_length_0", syn_with_options({8, 0, 1, 1})});
    out.push_back({"tcp_option_length_1", syn_with_options({3, 1, 1, 1})});
    out.push_back({"tcp_option_mss_0", syn_with_options({2, 4, 0, 0})});
    out.push_back({"tcp_option_mss_cut_at_end", syn_with_options({1, 1, 1, 2})});
    TcpFields win0 = to_listener(t, kSyn);
    win0.window = 0;
    out.push_back({"tcp_syn_window_0", tcp_frame(t.ep, win0)});
    TcpFields urg = to_listener(t, kAck | kUrg | kPsh);
    urg.urgent = 60000;
    urg.payload = bytes(10, 13);
    out.push_back({"tcp_urgent_beyond_data", tcp_frame(t.ep, urg)});
    TcpFields data = to_listener(t, kSyn);
    data.payload = bytes(100, 14);
    out.push_back({"tcp_syn_with_data", tcp_frame(t.ep, data)});
    TcpFields closed = to_listener(t, kSyn);
    closed.dst_port = kClosedPort;
    out.push_back({"tcp_syn_to_closed_port", tcp_frame(t.ep, closed)});
}

// Sequence numbers far from anything the guest offered: with a 23 KiB
// window the chance that one lands in the window is ~5e-6.
void add_live(const Target& t, std::vector<HostileFrame>& out) {
    auto live = [&](uint8_t flags, uint32_t seq, const char* payload) {
        TcpFields f;
        f.src_port = t.live_port;
        f.dst_port = t.tcp_port;
        f.seq = seq;
        f.ack = seq ^ 0x80000000u;
        f.flags = flags;
        f.payload.assign(payload, payload + std::char_traits<char>::length(payload));
        return tcp_frame(t.ep, f);
    };
    out.push_back({"tcp_live_wrong_seq_data", live(kAck | kPsh, 0x13572468, "WRONG-SEQUENCE-DATA\n")});
    out.push_back({"tcp_live_wrong_seq_rst", live(kRst, 0x2468ace0, "")});
    out.push_back({"tcp_live_wrong_seq_rst_ack", live(kRst | kAck, 0x3579bdf1, "")});
    out.push_back({"tcp_live_wrong_seq_syn", live(kSyn, 0x47ad0123, "")});
    out.push_back({"tcp_live_wrong_seq_fin", live(kFin | kAck, 0x5abc4567, "")});
}

void add_icmp_arp(const Target& t, std::vector<HostileFrame>& out) {
    const std::vector<uint8_t> echo_rest{0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g'};
    Frame bad = icmp_frame(t.ep, 8, 0, echo_rest);
    bad[kEthHeader + kIpv4Header + 2] ^= 0x5a;
    out.push_back({"icmp_bad_checksum", bad});
    out.push_back({"icmp_truncated", ipv4_frame(t.ep, kProtoIcmp, std::vector<uint8_t>{8, 0, 0xf7})});
    std::vector<uint8_t> quoted{0, 0, 0, 0, 0x4f, 0, 0, 20, 0xde, 0xad, 0xbe, 0xef};  // unused word, IHL-15 header cut
    out.push_back({"icmp_unreachable_quoting_garbage", icmp_frame(t.ep, 3, 3, quoted)});
    out.push_back({"icmp_unknown_type", icmp_frame(t.ep, 200, 0, echo_rest)});
    Endpoints bcast = t.ep;
    bcast.dst_mac.fill(0xff);
    bcast.dst_ip = t.ep.dst_ip | 0xff;
    out.push_back({"icmp_echo_to_broadcast", icmp_frame(bcast, 8, 0, echo_rest)});
    const Frame arp = arp_request(t.ep, t.ep.dst_ip);
    auto arp_byte = [&](size_t at, uint8_t v) {
        Frame f = arp;
        f[kEthHeader + at] = v;
        return f;
    };
    out.push_back({"arp_bad_hardware_length", arp_byte(4, 16)});
    out.push_back({"arp_bad_protocol_length", arp_byte(5, 16)});
    out.push_back({"arp_unknown_opcode", arp_byte(7, 7)});
}

}  // namespace

Frame valid_udp(const Target& t) {
    return udp_frame(t.ep, kHostileUdpPort, t.udp_port, std::vector<uint8_t>{'r', 'a', 'w', 'f', 'r', 'a', 'm', 'e'});
}

Frame valid_tcp(const Target& t) {
    TcpFields f = to_listener(t, kAck | kPsh);
    f.payload = bytes(32, 15);
    return tcp_frame(t.ep, f);
}

std::vector<HostileFrame> named_frames(const Target& t) {
    std::vector<HostileFrame> out;
    add_runts(t, out);
    add_oversized(t, out);
    add_ethertypes(t, out);
    add_ipv4(t, out);
    add_fragments(t, out);
    add_udp(t, out);
    add_tcp(t, out);
    if (t.live_port != 0) add_live(t, out);
    add_icmp_arp(t, out);
    return out;
}

std::vector<HostileFrame> mutated_frames(const Target& t, uint64_t seed, size_t count) {
    std::mt19937_64 rng(seed);  // specified by the standard: same seed, same frames everywhere
    const Frame bases[] = {valid_udp(t), valid_tcp(t), tcp_frame(t.ep, to_listener(t, kSyn))};
    const char* base_names[] = {"udp", "tcp", "tcp_syn"};
    std::vector<HostileFrame> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        const size_t b = i % 3;
        Frame f = bases[b];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const uint64_t r = rng();
            // Most damage goes into the headers (the first 54 bytes), where the parsers are.
            const size_t span = (r & 3) != 0 ? std::min<size_t>(f.size(), 54) : f.size();
            if (f.empty()) break;
            const size_t at = static_cast<size_t>(r >> 8) % span;
            switch ((r >> 2) % 4) {
            case 0: f[at] = static_cast<uint8_t>(r >> 40); break;
            case 1: f[at] ^= static_cast<uint8_t>(1u << ((r >> 48) % 8)); break;
            case 2: f.resize(std::max<size_t>(at, 1)); break;  // a frame has at least a byte
            default: f.resize(f.size() + 1 + (r >> 32) % 64, static_cast<uint8_t>(r >> 56)); break;
            }
        }
        if (rng() & 1) fix_checksums(f);
        std::string name = "mutation_" + std::to_string(i) + "_" + base_names[b];
        out.push_back({std::move(name), std::move(f)});
    }
    return out;
}

}  // namespace ringlet::rawframe
