// TcpTxRefs: the DMA buffers a TCP connection's unacknowledged bytes live in.
//
// Zero-copy TCP sends hand lwIP a reference to the app's bytes (tcp_write
// without TCP_WRITE_FLAG_COPY): lwIP keeps pointing at them until the peer
// acknowledges them, for retransmission. Each push is recorded here, in
// order, with the buffer and its byte count; acknowledged byte counts (lwIP's
// sent callback) walk the FIFO and drop each buffer once all of its bytes
// are acknowledged. A push whose bytes something else keeps alive (the send
// fast path's segment holds its buffer itself, net/tcp_fast_path.h) is
// recorded without a buffer, so the counting stays in step; consecutive
// such pushes share one entry. When the app closes a connection
// whose bytes are still unacknowledged, the record moves to the backend's
// orphans (LwipBackend::adopt_tx_refs) until lwIP is done with the pcb.
#pragma once

#include <stdint.h>

#include "libos/mem/dma_heap.h"

namespace ringlet::net {

class TcpTxRefs {
public:
    // Pushes in flight per connection: lwIP queues at most TCP_SND_QUEUELEN
    // pbufs (each push at least one), so this never binds before lwIP does.
    static constexpr uint32_t kMaxPushes = 64;

    TcpTxRefs() = default;
    ~TcpTxRefs() { release_all(); }
    TcpTxRefs(const TcpTxRefs&) = delete;
    TcpTxRefs& operator=(const TcpTxRefs&) = delete;

    // Whether another push can be recorded.
    bool has_room() const { return m_count < kMaxPushes; }
    // Records `bytes` about to be written; `b` (nullptr: bytes held
    // elsewhere) is retained in `heap` until they are acknowledged.
    // Precondition: has_room().
    void add(mem::DmaHeap* heap, mem::Buffer* b, uint32_t bytes);
    // The peer acknowledged `bytes` more (in order): drops the buffers now
    // fully acknowledged. Extra bytes (a FIN's) are ignored.
    // Inline: the sent callback runs it for every acknowledgement.
    void acked(uint32_t bytes) {
        while (bytes > 0 && m_count > 0) {
            Entry& e = m_entries[m_head];
            if (bytes < e.left) {
                e.left -= bytes;
                return;
            }
            bytes -= e.left;
            if (e.buf != nullptr) drop(e.buf);
            m_head = (m_head + 1) % kMaxPushes;
            --m_count;
        }
    }
    // Drops every buffer (the pcb is gone, or its data with it).
    void release_all();
    // Moves everything into `to` (empty), leaving this one empty.
    void move_to(TcpTxRefs& to);
    bool empty() const { return m_count == 0; }

private:
    // Releases b into the heap, unless the heap is torn down already.
    void drop(mem::Buffer* b);

    struct Entry {
        mem::Buffer* buf;
        uint32_t left;
    };
    mem::DmaHeap* m_heap = nullptr;
    Entry m_entries[kMaxPushes];
    uint32_t m_head = 0;
    uint32_t m_count = 0;
};

}  // namespace ringlet::net
