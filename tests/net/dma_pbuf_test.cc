// DMA pbufs (net/dma_pbuf.h): the send fast path's in-place wrapper,
// wrap_in_place() and free_if_in_place(), against the buffer's references.
#include "net/dma_pbuf.h"

#include <gtest/gtest.h>

#include "lwip/pbuf.h"

namespace ringlet::net {
namespace {

alignas(64) unsigned char g_region[1 << 18];

class DmaPbufTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto h = mem::DmaHeap::create(g_region, sizeof g_region);
        ASSERT_TRUE(h.ok());
        heap = *h;
        attach_heap(&heap);
        auto b = heap.alloc(256);
        ASSERT_TRUE(b.ok());
        buf = *b;
    }
    void TearDown() override {
        heap.release(buf);
        EXPECT_EQ(heap.live(), 0u);
        EXPECT_EQ(dma_pbufs_live(), 0u);
        attach_heap(nullptr);
    }
    mem::DmaHeap heap;
    mem::Buffer* buf = nullptr;
};

TEST_F(DmaPbufTest, InPlaceWrapperTakesAReferenceAndGivesItBack) {
    pbuf* p = wrap_in_place(buf, 40, 100);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(buf->refs, 2u);
    EXPECT_TRUE(is_in_place(p));
    EXPECT_EQ(p->payload, buf->data() + 40);
    EXPECT_EQ(p->len, 100u);
    EXPECT_EQ(p->tot_len, 100u);
    mem::Buffer* owner = nullptr;
    uint32_t off = 0;
    ASSERT_TRUE(dma_segment(p, &owner, &off));
    EXPECT_EQ(owner, buf);
    EXPECT_EQ(off, 40u);
    EXPECT_EQ(dma_pbufs_live(), 1u);
    // One wrapper per buffer at a time: a second one is refused, nothing taken.
    EXPECT_EQ(wrap_in_place(buf, 0, 10), nullptr);
    EXPECT_EQ(buf->refs, 2u);
    EXPECT_TRUE(free_if_in_place(p));
    EXPECT_EQ(buf->refs, 1u);
    EXPECT_EQ(dma_pbufs_live(), 0u);
    // Free again: a new wrapper can be made.
    p = wrap_in_place(buf, 0, 10);
    ASSERT_NE(p, nullptr);
    pbuf_free(p);  // lwIP's way frees it the same
    EXPECT_EQ(buf->refs, 1u);
}

TEST_F(DmaPbufTest, BadSlicesAreRefusedWithoutTakingAReference) {
    EXPECT_EQ(wrap_in_place(buf, 0, 0), nullptr);
    EXPECT_EQ(wrap_in_place(buf, buf->capacity, 1), nullptr);
    EXPECT_EQ(wrap_in_place(buf, 10, buf->capacity), nullptr);
    EXPECT_EQ(buf->refs, 1u);
    EXPECT_EQ(dma_pbufs_live(), 0u);
}

TEST_F(DmaPbufTest, FreeIfInPlaceLeavesEverythingElseAlone) {
    // Another reference (lwIP still sending it): not freed here.
    pbuf* p = wrap_in_place(buf, 0, 64);
    ASSERT_NE(p, nullptr);
    pbuf_ref(p);
    EXPECT_FALSE(free_if_in_place(p));
    EXPECT_EQ(buf->refs, 2u);
    pbuf_free(p);
    EXPECT_TRUE(free_if_in_place(p));
    EXPECT_EQ(buf->refs, 1u);
    // A pooled wrapper is not an in-place one.
    heap.retain(buf);
    pbuf* q = wrap_dma(buf, 0, 64);
    ASSERT_NE(q, nullptr);
    EXPECT_FALSE(is_in_place(q));
    EXPECT_FALSE(free_if_in_place(q));
    EXPECT_EQ(buf->refs, 2u);
    pbuf_free(q);
    EXPECT_EQ(buf->refs, 1u);
}

}  // namespace
}  // namespace ringlet::net
