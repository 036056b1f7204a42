// mqcheck: brings up the machine's virtio-net device with 4 queue pairs and
// RSS programmed from net/flow_steering, and its virtio-blk device with 4
// request queues, and reports what the devices accepted (the check behind
// qemu.net_mq; the per-core libOS uses the same calls).
//
//   init=mqcheck:FRAMES   after bring-up, receives FRAMES UDP datagrams to
//                         port 7777 on all pairs (or gives up after 30 s),
//                         reports on which pair each arrived and whether that
//                         is the core net/flow_steering computes for it, and
//                         echoes each back from its RX buffer on the same
//                         pair's TX queue.
#include <string.h>

#include "drivers/virtio/blk.h"
#include "drivers/virtio/net.h"
#include "drivers/virtio/net_control.h"
#include "libos/backend/device_grants.h"
#include "net/flow_steering.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

// Turns a received IPv4/UDP frame into its echo in place: swapping the
// addresses and ports leaves both checksums right (one's-complement sums
// do not depend on the order of their terms).
void swap_bytes(uint8_t* a, uint8_t* b, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
        uint8_t t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}
void make_echo(uint8_t* frame, const uint8_t* mac) {
    memcpy(frame, frame + 6, 6);  // to the sender
    memcpy(frame + 6, mac, 6);
    uint8_t* ip = frame + 14;
    swap_bytes(ip + 12, ip + 16, 4);
    uint8_t* udp = ip + (ip[0] & 0x0f) * 4;
    swap_bytes(udp, udp + 2, 2);
}

constexpr uint16_t kPairs = 4;
constexpr uint16_t kQueueSize = 64;
constexpr uint32_t kBufsPerPair = 32;
constexpr uint32_t kBuf = 2048;
constexpr uint16_t kUdpPort = 7777;
// Mappings, away from anything else in this app.
constexpr uint64_t kNetVa = 0x3000000000ull;
constexpr uint64_t kBlkVa = 0x3000001000ull;
constexpr uint64_t kRingVa = 0x3000100000ull;   // 16 pages: 8 net rings, control ring + buffer, 4 blk rings
constexpr uint64_t kBufVa = 0x3001000000ull;    // RX buffers, then the disk's data and request slots
constexpr uint64_t kRingPages = 16;
constexpr uint64_t kBufPages = kPairs * kBufsPerPair * kBuf / 4096 + 16;

virtio::NetDevice g_net[kPairs];
virtio::BlkDevice g_blk[kPairs];
net::FlowSteering g_steering;

virtio::DmaSpan page(uint64_t va_base, uint64_t pa_base, uint32_t i, uint32_t len = 4096) {
    return virtio::DmaSpan{reinterpret_cast<uint8_t*>(va_base + i * 4096ull), pa_base + i * 4096ull, len};
}

int check_net(uint64_t ring_pa, uint64_t buf_pa, uint32_t frames) {
    auto dev = backend::claim_virtio_device(backend::kVirtioNetId, kNetVa);
    if (!dev) {
        user::printf("mqcheck: no virtio-net device: %s\n", error_name(dev.error()));
        return 1;
    }
    if (!g_steering.init(kPairs)) return 1;
    virtio::NetDevice* devices[kPairs];
    virtio::NetPairRings rings[kPairs];
    for (uint16_t k = 0; k < kPairs; ++k) {
        devices[k] = &g_net[k];
        rings[k].rx_ring = page(kRingVa, ring_pa, 2 * k);
        rings[k].tx_ring = page(kRingVa, ring_pa, 2 * k + 1);
    }
    virtio::NetMultiQueue::Config mc;
    mc.pairs = kPairs;
    mc.devices = devices;
    mc.rings = rings;
    mc.control_ring = page(kRingVa, ring_pa, 8);
    mc.control_buffer = page(kRingVa, ring_pa, 9);
    mc.rss.key = g_steering.key();
    mc.rss.key_len = net::kRssKeyBytes;
    mc.rss.table = g_steering.table();
    mc.rss.table_len = net::kSteeringTableEntries;
    static virtio::NetMultiQueue mq(mc);
    virtio::NetConfig cfg;
    cfg.window = virtio::MmioWindow(kNetVa);
    cfg.rx_ring = rings[0].rx_ring;
    cfg.tx_ring = rings[0].tx_ring;
    cfg.queue_size = kQueueSize;
    cfg.multiqueue = &mq;
    // Whole checksums from the device: an echo is the received frame with
    // addresses swapped, so a partial checksum would go back unfinished.
    cfg.checksum_offload = false;
    if (auto r = g_net[0].init(cfg); !r) {
        user::printf("mqcheck: virtio-net init: %s\n", error_name(r.error()));
        return 1;
    }
    const uint8_t* mac = g_net[0].mac();
    user::printf("mqcheck: net features offered 0x%lx negotiated 0x%lx\n", g_net[0].transport().device_features(),
                 g_net[0].features());
    user::printf("mqcheck: net pairs %u of %u, rss %s, status %s: %s\n", mq.active_pairs(), mq.device_max_pairs(),
                 mq.rss_enabled() ? "on" : "off", error_name(mq.status()), mq.status_text());
    user::printf("mqcheck: net mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    if (frames == 0) return 0;

    const uint16_t pairs = mq.active_pairs();
    for (uint16_t k = 0; k < pairs; ++k) {
        g_net[k].disable_interrupts();
        for (uint32_t i = 0; i < kBufsPerPair; ++i) {
            uint32_t n = k * kBufsPerPair + i;
            virtio::RxBuffer b{reinterpret_cast<uint8_t*>(kBufVa) + n * kBuf, buf_pa + n * kBuf, kBuf, n};
            if (!g_net[k].post_rx(b)) return 1;
        }
        if (!g_net[k].kick_rx()) return 1;
    }
    user::printf("mqcheck: net receiving\n");
    uint32_t per_pair[kPairs] = {}, udp = 0, on_core = 0, elsewhere = 0, other = 0, other_on_0 = 0, echoed = 0;
    const uint64_t deadline = user::now() + 30 * user::timebase_hz();
    while ((udp < frames || echoed < udp) && user::now() < deadline) {
        for (uint16_t k = 0; k < pairs; ++k) {
            if (auto sent = g_net[k].poll_tx(); sent) {
                ++echoed;
                const uint64_t n = *sent;
                virtio::RxBuffer b{reinterpret_cast<uint8_t*>(kBufVa) + n * kBuf, buf_pa + n * kBuf, kBuf, n};
                if (!g_net[k].post_rx(b) || !g_net[k].kick_rx()) return 1;
            }
            auto f = g_net[k].poll_rx();
            if (!f) continue;
            net::FlowTuple flow;
            if (net::FlowSteering::parse_flow(f->data, f->len, &flow) && flow.dst_port == kUdpPort) {
                ++udp;
                ++per_pair[k];
                if (g_steering.core_for_frame(f->data, f->len) == k) {
                    ++on_core;
                } else {
                    ++elsewhere;
                }
                // Echo from this very buffer on this pair's TX queue (the
                // RX header's 12 bytes are the TX header's headroom); the
                // buffer goes back to RX once the device has sent it.
                make_echo(f->data, mac);
                virtio::TxSegment seg{f->data, buf_pa + f->cookie * kBuf + virtio::NetDevice::kHeaderBytes, f->len};
                if (g_net[k].transmit(&seg, 1, f->cookie)) continue;
            } else {
                ++other;
                if (k == 0) ++other_on_0;
            }
            virtio::RxBuffer b{f->buffer, buf_pa + f->cookie * kBuf, kBuf, f->cookie};
            if (!g_net[k].post_rx(b) || !g_net[k].kick_rx()) return 1;
        }
    }
    user::printf("mqcheck: net udp %u, per pair %u %u %u %u, on their flow's core %u, elsewhere %u, echoed %u; "
                 "other %u (on pair 0: %u)\n",
                 udp, per_pair[0], per_pair[1], per_pair[2], per_pair[3], on_core, elsewhere, echoed, other,
                 other_on_0);
    return udp == frames && elsewhere == 0 && echoed == frames ? 0 : 1;
}

int check_blk(uint64_t ring_pa, uint64_t buf_pa) {
    auto dev = backend::claim_virtio_device(backend::kVirtioBlkId, kBlkVa);
    if (!dev) {
        user::printf("mqcheck: no virtio-blk device: %s\n", error_name(dev.error()));
        return 0;  // optional
    }
    virtio::BlkDevice* more[kPairs];
    virtio::BlkQueueMemory mem[kPairs];
    const uint64_t data_off = kPairs * kBufsPerPair * kBuf;  // after the RX buffers
    for (uint16_t k = 0; k < kPairs; ++k) {
        more[k] = &g_blk[k];
        mem[k].ring = page(kRingVa, ring_pa, 10 + k);
        mem[k].requests = virtio::DmaSpan{reinterpret_cast<uint8_t*>(kBufVa + data_off + 8 * 4096 + k * 4096),
                                          buf_pa + data_off + 8 * 4096 + k * 4096, 4096};
    }
    virtio::BlkConfig cfg;
    cfg.window = virtio::MmioWindow(kBlkVa);
    cfg.ring = mem[0].ring;
    cfg.requests = mem[0].requests;
    cfg.queue_size = kQueueSize;
    cfg.queues = kPairs;
    cfg.more = more;
    cfg.more_memory = mem;
    if (auto r = g_blk[0].init(cfg); !r) {
        user::printf("mqcheck: virtio-blk init: %s\n", error_name(r.error()));
        return 1;
    }
    // Each queue writes a sector of its own and reads it back, all queues in
    // flight together.
    uint32_t verified = 0;
    const uint16_t queues = g_blk[0].active_queues();
    auto span = [&](uint16_t k, uint32_t half) {
        uint64_t off = data_off + k * 1024ull + half * 512;
        return virtio::DmaSpan{reinterpret_cast<uint8_t*>(kBufVa + off), buf_pa + off, 512};
    };
    for (uint16_t k = 0; k < queues; ++k) {
        virtio::DmaSpan w = span(k, 0);
        for (uint32_t i = 0; i < 512; ++i) w.va[i] = static_cast<uint8_t>(k * 29 + i);
        if (!g_blk[k].write(k, w, k)) return 1;
    }
    for (uint16_t k = 0; k < queues; ++k) {
        Result<virtio::BlkCompletion> c = Error::Empty;
        while ((c = g_blk[k].poll()).error() == Error::Empty) {
        }
        if (!c || c->status != Error::Ok || !g_blk[k].read(k, span(k, 1), k)) return 1;
    }
    for (uint16_t k = 0; k < queues; ++k) {
        Result<virtio::BlkCompletion> c = Error::Empty;
        while ((c = g_blk[k].poll()).error() == Error::Empty) {
        }
        if (c && c->status == Error::Ok && memcmp(span(k, 0).va, span(k, 1).va, 512) == 0) ++verified;
    }
    user::printf("mqcheck: blk queues %u of %u, verified on %u\n", queues, g_blk[0].device_queues(), verified);
    return verified == queues ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    uint32_t frames = 0;
    for (const char* p = argc > 1 ? argv[1] : ""; *p >= '0' && *p <= '9'; ++p) frames = frames * 10 + (*p - '0');
    auto rings = backend::map_contiguous(kRingPages, kRingVa);
    auto bufs = backend::map_contiguous(kBufPages, kBufVa);
    if (!rings || !bufs) {
        user::printf("mqcheck: no DMA memory\n");
        return 1;
    }
    int rc = check_blk(*rings, *bufs);
    rc |= check_net(*rings, *bufs, frames);
    user::printf("mqcheck: done, %s\n", rc == 0 ? "ok" : "FAILED");
    return rc;
}
