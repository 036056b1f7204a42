#include "tests/net/fake_nic.h"

#include <string.h>

#include "libos/rt/executor.h"

namespace ringlet::net::test {

FakeNic::~FakeNic() {
    // Frames never polled: the heap may be gone already (the LibOs died
    // first), so only forget them.
    m_rx.clear();
}

Result<void> FakeNic::transmit(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum) {
    if (hold_tx && n > 0 && n <= kMaxTxSegments) {
        Held h{};
        for (uint32_t i = 0; i < n; ++i) {
            h.segs[i] = segs[i];
            last_buffers[i] = segs[i].buf;
            last_offsets[i] = segs[i].offset;
        }
        last_segments = n;
        h.n = n;
        h.has_csum = csum != nullptr;
        if (csum != nullptr) h.csum = *csum;
        m_held.push_back(h);
        return {};
    }
    return send(segs, n, csum);
}

void FakeNic::release_held() {
    hold_tx = false;
    while (!m_held.empty()) {
        const Held h = m_held.front();
        m_held.pop_front();
        (void)send(h.segs, h.n, h.has_csum ? &h.csum : nullptr);
    }
}

Result<void> FakeNic::send(const TxSegment* segs, uint32_t n, const ChecksumRequest* csum) {
    Bytes frame;
    if (n == 0 || n > kMaxTxSegments || segs[0].offset < kHeadroom) ++contract_violations;
    for (uint32_t i = 0; i < n; ++i) {
        const TxSegment& s = segs[i];
        if (s.buf->magic != mem::DmaHeap::kLive || s.offset + s.len > s.buf->capacity) {
            ++contract_violations;
        } else {
            frame.insert(frame.end(), s.buf->data() + s.offset, s.buf->data() + s.offset + s.len);
        }
        last_buffers[i] = s.buf;
        last_offsets[i] = s.offset;
    }
    last_segments = n;
    if (csum != nullptr) {
        const size_t at = size_t{csum->start} + csum->offset;
        if (!offload.tx_checksum || at + 2 > frame.size()) {
            ++contract_violations;
        } else {
            ++csum_requests;
            last_csum = *csum;
            last_csum_field = static_cast<uint16_t>(frame[at] << 8 | frame[at + 1]);
            const uint16_t c = inet_checksum(frame.data() + csum->start, frame.size() - csum->start);
            frame[at] = static_cast<uint8_t>(c >> 8);
            frame[at + 1] = static_cast<uint8_t>(c);
        }
    }
    // Whoever filled them in, TCP and UDP checksums must be right on the wire.
    if (const Parsed p = parse(frame);
        p.ip && (p.proto == kProtoTcp || p.proto == kProtoUdp) && (p.ip_flags_frag & 0x3fff) == 0 && !p.l4_checksum_ok) {
        ++wire_checksum_errors;
    }
    // The "device" is done at once: drop the references we were given.
    for (uint32_t i = 0; i < n; ++i) m_heap->release(segs[i].buf);
    if (fail_tx) return Error::Full;
    ++frames_out;
    if (m_peer != nullptr) {
        if (drop_every != 0 && frames_out % drop_every == 0) {
            ++frames_dropped;
        } else {
            m_peer->inject(frame);
        }
    }
    if (record) sent.push_back(std::move(frame));
    return {};
}

void FakeNic::inject(const Bytes& frame) {
    auto b = m_heap->alloc(kHeadroom + frame.size());
    if (!b) {
        ++contract_violations;  // the test's heap is sized so this cannot happen
        return;
    }
    (*b)->app_owned = false;
    if (!frame.empty()) memcpy((*b)->data() + kHeadroom, frame.data(), frame.size());
    m_rx.push_back(Rx{*b, static_cast<uint32_t>(frame.size())});
    if (rt::Executor* e = rt::Executor::current()) e->notify_pollers();
}

uint32_t FakeNic::poll(uint32_t max, FrameSink& sink) {
    uint32_t n = 0;
    while (n < max && !m_rx.empty()) {
        const Rx rx = m_rx.front();
        m_rx.pop_front();
        sink.receive(rx.buf, kHeadroom, rx.len, offload.rx_checksum && mark_rx_verified);
        ++n;
    }
    return n;
}

}  // namespace ringlet::net::test
