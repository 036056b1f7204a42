// FakeNic's control queue (virtio 1.2 section 5.1.6.5): records each
// command's bytes and answers the multiqueue class the way QEMU 7.2's
// virtio-net checks it (pairs within 1..max_virtqueue_pairs, RSS tables a
// power of two within the advertised limits, a key within its maximum).
#include <string.h>

#include "tests/drivers/virtio/fake_device.h"

namespace ringlet::virtio::test {

namespace {
constexpr uint8_t kOk = 0;
constexpr uint8_t kErr = 1;
constexpr uint64_t kMq = 1ull << 22;
constexpr uint64_t kRss = 1ull << 60;

uint16_t le16(const std::vector<uint8_t>& b, size_t at) {
    return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}
}  // namespace

void FakeNic::service_control() {
    if (ignore_commands) return;
    const uint32_t q = 2u * max_pairs;
    DeviceChain c;
    while (next_chain(q, c)) {
        std::vector<uint8_t> in = c.gather();
        if (c.writable.size() != 1 || c.writable[0].len < 1) {
            errors.push_back("control command without a one-byte ack buffer");
            complete(q, c.head, 0);
            continue;
        }
        commands.push_back(in);
        uint8_t ack = refuse_commands ? kErr : run_command(in);
        c.writable[0].va[0] = ack;
        complete(q, c.head, 1);
    }
}

uint8_t FakeNic::run_command(const std::vector<uint8_t>& c) {
    if (c.size() < 2 || c[0] != 4) return kErr;  // only VIRTIO_NET_CTRL_MQ
    if ((driver_features & kMq) == 0 && (driver_features & kRss) == 0) return kErr;
    if (c[1] == 0) {  // VQ_PAIRS_SET
        if (c.size() != 4) return kErr;
        uint16_t n = le16(c, 2);
        if (n < 1 || n > max_pairs) return kErr;
        active_pairs = n;
        rss_on = false;
        return kOk;
    }
    if (c[1] != 1 || (driver_features & kRss) == 0) return kErr;  // RSS_CONFIG needs RSS
    // hash_types(4) mask(2) unclassified(2) table(2*n) max_tx_vq(2) key_len(1) key
    if (c.size() < 2 + 8) return kErr;
    uint32_t types;
    memcpy(&types, &c[2], 4);
    uint16_t n = static_cast<uint16_t>(le16(c, 6) + 1);
    uint16_t unclassified = le16(c, 8);
    if ((n & (n - 1)) != 0 || n > 128) return kErr;
    size_t at = 10;
    if (c.size() < at + 2u * n + 3) return kErr;
    std::vector<uint16_t> table(n);
    for (uint16_t i = 0; i < n; ++i) table[i] = le16(c, at + 2u * i);
    at += 2u * n;
    uint16_t pairs = le16(c, at);
    uint8_t key_len = c[at + 2];
    at += 3;
    if (pairs < 1 || pairs > max_pairs || key_len > 40 || c.size() != at + key_len) return kErr;
    if (unclassified >= pairs) return kErr;
    for (uint16_t e : table) {
        if (e >= pairs) return kErr;
    }
    rss_on = true;
    rss_hash_types = types;
    rss_unclassified = unclassified;
    rss_table = table;
    rss_key.assign(c.begin() + static_cast<long>(at), c.end());
    active_pairs = pairs;
    return kOk;
}

}  // namespace ringlet::virtio::test
