#include "drivers/virtio/net_control.h"

#include "drivers/virtio/net.h"

namespace ringlet::virtio {

namespace {

// Config space (section 5.1.4), after mac (0) and status (6).
constexpr uint32_t kConfigMaxPairs = 8;         // le16, with MQ or RSS
constexpr uint32_t kConfigRssMaxKey = 17;       // u8, with RSS
constexpr uint32_t kConfigRssMaxTable = 18;     // le16, with RSS
constexpr uint32_t kConfigRssHashTypes = 20;    // le32, with RSS

// The command sits at the start of the control buffer (class, command,
// data); the device writes the ack byte at the end.
constexpr uint32_t kAckOffset = NetMultiQueue::kControlBufferBytes - 1;
// Polls of the used ring before a command counts as unanswered. QEMU
// answers within the notifying register write; a real device quickly.
constexpr uint32_t kCommandPolls = 1000000;

void put_le16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}

}  // namespace

uint64_t NetMultiQueue::wanted_features() const {
    if (m_config.pairs <= 1) return 0;
    uint64_t f = net_feature::kMq | net_feature::kCtrlVq;
    if (m_config.rss.key != nullptr) f |= net_feature::kRss;
    return f;
}

void NetMultiQueue::fall_back(Error e, const char* why) {
    m_status = e;
    m_status_text = why;
    m_pairs = 1;
    m_active = 1;
    m_rss = false;
}

Result<void> NetMultiQueue::check_rss_fits() const {
    const RssSettings& r = m_config.rss;
    if (r.table == nullptr || r.table_len == 0 || (r.table_len & (r.table_len - 1)) != 0) {
        return Error::InvalidArgument;
    }
    for (uint32_t i = 0; i < r.table_len; ++i) {
        if (r.table[i] >= m_config.pairs) return Error::InvalidArgument;
    }
    // Section 5.1.6.5.7.1: within what the device advertises.
    if (r.key_len == 0 || r.key_len > m_transport->config8(kConfigRssMaxKey)) return Error::InvalidArgument;
    if (r.table_len > m_transport->config16(kConfigRssMaxTable)) return Error::InvalidArgument;
    if ((r.hash_types & ~m_transport->config32(kConfigRssHashTypes)) != 0) return Error::InvalidArgument;
    return {};
}

Result<void> NetMultiQueue::setup_queues(NetDevice& primary, uint16_t queue_size) {
    m_transport = &primary.transport();
    const uint64_t f = m_transport->features();
    const uint16_t want = m_config.pairs;
    if (want <= 1) return {};
    if (want > kMaxPairs || m_config.devices == nullptr || m_config.rings == nullptr ||
        m_config.control_buffer.len < kControlBufferBytes) {
        fall_back(Error::InvalidArgument, "multiqueue config is incomplete: single queue");
        return {};
    }
    if ((f & net_feature::kMq) == 0 || (f & net_feature::kCtrlVq) == 0) {
        fall_back(Error::Unsupported, "device has no multiqueue (MQ/CTRL_VQ): single queue");
        return {};
    }
    uint16_t max = 0;
    TRY(m_transport->read_config_consistent([&] { max = m_transport->config16(kConfigMaxPairs); }));
    m_device_max = max;
    if (max < want) {
        fall_back(Error::OutOfRange, "device offers fewer queue pairs than cores: single queue");
        return {};
    }
    const bool rss_asked = m_config.rss.key != nullptr;
    if (rss_asked && (f & net_feature::kRss) == 0) {
        if (!m_config.allow_without_rss) {
            fall_back(Error::Unsupported, "device has no RSS: single queue, software steering");
            return {};
        }
    } else if (rss_asked) {
        Result<void> fits = check_rss_fits();
        if (!fits.ok()) {
            fall_back(fits.error(), "RSS key/table do not fit the device: single queue, software steering");
            return {};
        }
    }

    // Section 5.1.2: the control queue follows every possible pair, at
    // 2 * max_virtqueue_pairs, whatever number of pairs is used.
    {
        auto q = Virtqueue::setup(*m_transport, static_cast<uint16_t>(2 * max), m_config.control_ring,
                                  kControlQueueSize);
        if (!q.ok()) return q.error();
        m_control = *q;
    }
    m_control.disable_interrupts();  // commands are polled for
    m_has_control = true;
    for (uint16_t k = 1; k < want; ++k) {
        NetDevice* d = m_config.devices[k];
        if (d == nullptr) return Error::InvalidArgument;
        TRY(d->attach_pair(primary, k, m_config.rings[k].rx_ring, m_config.rings[k].tx_ring, queue_size));
        m_attached = static_cast<uint16_t>(k + 1);
    }
    m_pairs = want;
    return {};
}

Result<void> NetMultiQueue::release_pairs() {
    for (uint16_t k = 1; k < m_attached; ++k) {
        if (m_config.devices[k]->holds_buffers()) return Error::Busy;
    }
    for (uint16_t k = 1; k < m_attached; ++k) m_config.devices[k]->release_pair();
    m_attached = 1;
    m_active_before = m_active;
    m_rss_before = m_rss;
    // As before the first init(): the bring-up decides again.
    m_pairs = 1;
    m_active = 1;
    m_rss = false;
    m_has_control = false;
    return {};
}

Result<void> NetMultiQueue::check_restored() const {
    if (m_active != m_active_before || m_rss != m_rss_before) return Error::Unsupported;
    return {};
}

uint32_t NetMultiQueue::build_rss_config(uint8_t* out) const {
    // struct virtio_net_rss_config (section 5.1.6.5.7.1), little-endian:
    // hash_types, indirection_table_mask, unclassified_queue (0: frames
    // the hash types do not cover go to core 0, as software steering
    // does), indirection_table[], max_tx_vq (the pairs to use), key.
    const RssSettings& r = m_config.rss;
    uint32_t n = 0;
    for (uint32_t i = 0; i < 4; ++i) out[n++] = static_cast<uint8_t>(r.hash_types >> (8 * i));
    put_le16(out + n, static_cast<uint16_t>(r.table_len - 1));
    n += 2;
    put_le16(out + n, 0);
    n += 2;
    for (uint32_t i = 0; i < r.table_len; ++i, n += 2) put_le16(out + n, r.table[i]);
    put_le16(out + n, m_pairs);
    n += 2;
    out[n++] = r.key_len;
    for (uint32_t i = 0; i < r.key_len; ++i) out[n++] = r.key[i];
    return n;
}

void NetMultiQueue::activate() {
    if (m_pairs <= 1 || !m_has_control) return;
    // Section 5.1.6.5.5: after DRIVER_OK the device uses pair 0 only until
    // told otherwise. With RSS, RSS_CONFIG sets both the steering and the
    // number of pairs (max_tx_vq); without it, VQ_PAIRS_SET.
    const bool rss = m_config.rss.key != nullptr && (m_transport->features() & net_feature::kRss) != 0;
    uint8_t data[kControlBufferBytes - 3];
    uint32_t len;
    uint8_t cmd;
    if (rss) {
        len = build_rss_config(data);
        cmd = net_ctrl::kMqRssConfig;
    } else {
        put_le16(data, m_pairs);
        len = 2;
        cmd = net_ctrl::kMqVqPairsSet;
    }
    Result<void> r = command(net_ctrl::kClassMq, cmd, data, len);
    if (!r.ok()) {
        // The device keeps its default: pair 0 only.
        fall_back(r.error(), r.error() == Error::IoError
                                 ? (rss ? "device refused RSS_CONFIG: single queue, software steering"
                                        : "device refused VQ_PAIRS_SET: single queue, software steering")
                                 : "control queue did not answer: single queue, software steering");
        return;
    }
    m_active = m_pairs;
    m_rss = rss;
    m_status = Error::Ok;
    m_status_text = rss ? "multiqueue with RSS" : "multiqueue without RSS";
}

Result<void> NetMultiQueue::command(uint8_t cls, uint8_t cmd, const uint8_t* data, uint32_t len) {
    // Section 5.1.6.5: class, command and data are device-readable, the ack
    // device-writable; one command in flight at a time.
    const DmaSpan& buf = m_config.control_buffer;
    if (2 + len > kAckOffset) return Error::InvalidArgument;
    buf.va[0] = cls;
    buf.va[1] = cmd;
    for (uint32_t i = 0; i < len; ++i) buf.va[2 + i] = data[i];
    buf.va[kAckOffset] = net_ctrl::kErr;  // a device that writes nothing has not said OK
    Segment out{buf.pa, 2 + len};
    Segment in{buf.pa + kAckOffset, 1};
    TRY(m_control.add(&out, 1, &in, 1, 0));
    TRY(m_control.kick());
    ++m_commands;
    for (uint32_t i = 0; i < kCommandPolls; ++i) {
        Result<Completion> c = m_control.pop();
        if (c.ok()) {
            // pop() ordered the ack byte's read after the used index's.
            if (c->len < 1) return Error::BadFormat;
            return buf.va[kAckOffset] == net_ctrl::kOk ? Result<void>{} : Result<void>{Error::IoError};
        }
        if (c.error() != Error::Empty) return c.error();
    }
    return Error::TimedOut;
}

}  // namespace ringlet::virtio
