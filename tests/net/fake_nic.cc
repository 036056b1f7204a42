#include "tests/net/fake_nic.h"

#include <string.h>

#include "libos/rt/executor.h"

namespace ringlet::net::test {

FakeNic::~FakeNic() {
    // Frames never polled: the heap may be gone already (the LibOs died
    // first), so only forget them.
    m_rx.clear();
}

Result<void> FakeNic::transmit(const TxSegment* segs, uint32_t n) {
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
    }
    last_segments = n;
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
        sink.receive(rx.buf, kHeadroom, rx.len);
        ++n;
    }
    return n;
}

}  // namespace ringlet::net::test
