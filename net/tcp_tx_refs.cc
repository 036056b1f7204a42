#include "net/tcp_tx_refs.h"

#include "net/dma_pbuf.h"

namespace ringlet::net {

void TcpTxRefs::add(mem::DmaHeap* heap, mem::Buffer* b, uint32_t bytes) {
    m_heap = heap;
    if (b != nullptr) {
        heap->retain(b);
    } else if (m_count > 0) {
        // Bytes something else holds, after others like them: one entry
        // counts them all (the send fast path's pushes, one per request).
        Entry& tail = m_entries[(m_head + m_count - 1) % kMaxPushes];
        if (tail.buf == nullptr) {
            tail.left += bytes;
            return;
        }
    }
    m_entries[(m_head + m_count) % kMaxPushes] = Entry{b, bytes};
    ++m_count;
}

void TcpTxRefs::drop(mem::Buffer* b) {
    // A heap torn down already (backend teardown) is not released into.
    if (attached_heap() != nullptr) m_heap->release(b);
}

void TcpTxRefs::release_all() {
    while (m_count > 0) {
        Entry& e = m_entries[m_head];
        if (e.buf != nullptr) drop(e.buf);
        m_head = (m_head + 1) % kMaxPushes;
        --m_count;
    }
}

void TcpTxRefs::move_to(TcpTxRefs& to) {
    to.m_heap = m_heap;
    while (m_count > 0) {
        to.m_entries[(to.m_head + to.m_count) % kMaxPushes] = m_entries[m_head];
        ++to.m_count;
        m_head = (m_head + 1) % kMaxPushes;
        --m_count;
    }
}

}  // namespace ringlet::net
