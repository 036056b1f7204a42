// TcpTxRefs (net/tcp_tx_refs.h): the buffers behind a connection's
// unacknowledged bytes go back to the heap exactly when all of their bytes
// are acknowledged, and pushes recorded without a buffer (the send fast
// path's: its segment holds the buffer) keep the counting in step, several
// in a row sharing one entry.
#include "net/tcp_tx_refs.h"

#include <gtest/gtest.h>

#include "net/dma_pbuf.h"

namespace ringlet::net {
namespace {

alignas(64) unsigned char g_region[1 << 18];

class TcpTxRefsTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto h = mem::DmaHeap::create(g_region, sizeof g_region);
        ASSERT_TRUE(h.ok());
        heap = *h;
        attach_heap(&heap);  // TcpTxRefs releases only into an attached heap
    }
    void TearDown() override { attach_heap(nullptr); }
    mem::Buffer* alloc() {
        auto b = heap.alloc(100);
        EXPECT_TRUE(b.ok());
        return *b;
    }
    mem::DmaHeap heap;
};

TEST_F(TcpTxRefsTest, ABufferGoesBackOnceAllOfItsBytesAreAcknowledged) {
    TcpTxRefs refs;
    mem::Buffer* a = alloc();
    mem::Buffer* b = alloc();
    refs.add(&heap, a, 10);
    refs.add(&heap, b, 20);
    EXPECT_EQ(a->refs, 2u);
    refs.acked(9);
    EXPECT_EQ(a->refs, 2u);
    refs.acked(1);
    EXPECT_EQ(a->refs, 1u) << "all 10 of a's bytes acknowledged";
    refs.acked(25);  // b's 20, and 5 of a FIN's or nobody's
    EXPECT_EQ(b->refs, 1u);
    EXPECT_TRUE(refs.empty());
    heap.release(a);
    heap.release(b);
    EXPECT_EQ(heap.live(), 0u);
}

TEST_F(TcpTxRefsTest, PushesWithoutABufferShareAnEntryAndKeepTheCountInStep) {
    TcpTxRefs refs;
    mem::Buffer* a = alloc();
    mem::Buffer* c = alloc();
    refs.add(&heap, a, 4);
    // Sixty-four fast-path pushes in a row take one entry: far more than
    // kMaxPushes entries would hold.
    for (uint32_t i = 0; i < 2 * TcpTxRefs::kMaxPushes; ++i) {
        ASSERT_TRUE(refs.has_room());
        refs.add(&heap, nullptr, 64);
    }
    refs.add(&heap, c, 8);
    refs.acked(4);
    EXPECT_EQ(a->refs, 1u);
    refs.acked(2 * TcpTxRefs::kMaxPushes * 64 - 1);
    EXPECT_EQ(c->refs, 2u) << "one byte of the bufferless pushes is still unacknowledged";
    refs.acked(1);
    EXPECT_EQ(c->refs, 2u);
    refs.acked(8);
    EXPECT_EQ(c->refs, 1u);
    EXPECT_TRUE(refs.empty());
    heap.release(a);
    heap.release(c);
}

TEST_F(TcpTxRefsTest, ReleaseAllAndMoveToDropEveryBufferOnce) {
    TcpTxRefs refs;
    mem::Buffer* a = alloc();
    refs.add(&heap, nullptr, 3);
    refs.add(&heap, a, 5);
    refs.add(&heap, nullptr, 7);
    TcpTxRefs orphan;
    refs.move_to(orphan);
    EXPECT_TRUE(refs.empty());
    EXPECT_EQ(a->refs, 2u);
    orphan.acked(3 + 5);
    EXPECT_EQ(a->refs, 1u);
    EXPECT_FALSE(orphan.empty());
    orphan.release_all();
    EXPECT_TRUE(orphan.empty());
    EXPECT_EQ(a->refs, 1u);
    heap.release(a);
    EXPECT_EQ(heap.live(), 0u);
}

}  // namespace
}  // namespace ringlet::net
