#include "libos/mem/dma_heap.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ringlet::mem {
namespace {

alignas(64) unsigned char g_region[1 << 20];

DmaHeap make() {
    auto h = DmaHeap::create(g_region, sizeof g_region);
    EXPECT_TRUE(h.ok());
    return *h;
}

TEST(DmaHeap, RejectsBadRegion) {
    EXPECT_EQ(DmaHeap::create(nullptr, 4096).error(), Error::InvalidArgument);
    EXPECT_EQ(DmaHeap::create(g_region + 8, 4096).error(), Error::InvalidArgument);
    EXPECT_EQ(DmaHeap::create(g_region, 16).error(), Error::InvalidArgument);
}

TEST(DmaHeap, AllocGivesAlignedAppOwnedBuffer) {
    DmaHeap h = make();
    auto b = h.alloc(1000);
    ASSERT_TRUE(b.ok());
    EXPECT_GE((*b)->capacity, 1000u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*b)->data()) % 64, 0u);
    EXPECT_TRUE((*b)->app_owned);
    EXPECT_TRUE(h.contains((*b)->data()));
    std::memset((*b)->data(), 0x5a, (*b)->capacity);
    EXPECT_EQ(h.live(), 1u);
    ASSERT_TRUE(h.app_free((*b)->data()).ok());
    EXPECT_EQ(h.live(), 0u);
}

TEST(DmaHeap, TooLargeOrExhausted) {
    DmaHeap h = make();
    EXPECT_EQ(h.alloc(h.largest() + 1).error(), Error::InvalidArgument);
    int n = 0;
    while (h.alloc(60000).ok()) ++n;  // 64 KiB blocks from 1 MiB
    EXPECT_EQ(n, 15) << "the granule map (8 KiB) takes the 16th";
    EXPECT_EQ(h.alloc(60000).error(), Error::OutOfMemory);
}

TEST(DmaHeap, DoubleFreeDetected) {
    DmaHeap h = make();
    auto b = h.alloc(100);
    ASSERT_TRUE(b.ok());
    void* d = (*b)->data();
    ASSERT_TRUE(h.app_free(d).ok());
    EXPECT_EQ(h.app_free(d).error(), Error::InvalidArgument);
    EXPECT_EQ(h.app_buffer(d).error(), Error::InvalidArgument);  // use after free
}

TEST(DmaHeap, ForeignPointersDetected) {
    DmaHeap h = make();
    auto b = h.alloc(100);
    ASSERT_TRUE(b.ok());
    int on_stack = 0;
    EXPECT_EQ(h.app_free(&on_stack).error(), Error::BadAddress);
    EXPECT_EQ(h.app_free(nullptr).error(), Error::BadAddress);
    EXPECT_EQ(h.app_free((*b)->data() - 8).error(), Error::BadAddress);  // its header
    EXPECT_EQ(h.app_free(g_region).error(), Error::BadAddress);          // the granule map
    EXPECT_EQ(h.app_free(g_region + sizeof g_region - 64).error(), Error::BadAddress);  // never handed out
    EXPECT_TRUE(h.app_free((*b)->data()).ok());
}

TEST(DmaHeap, FreeWhileInFlightIsDeferred) {
    DmaHeap h = make();
    auto b = h.alloc(100);
    ASSERT_TRUE(b.ok());
    Buffer* buf = *b;
    {
        BufferRef push(&h, buf);  // a push holds the buffer
        ASSERT_TRUE(h.app_free(buf->data()).ok());
        EXPECT_EQ(h.live(), 1u) << "memory stays while the device uses it";
        EXPECT_EQ(h.app_free(buf->data()).error(), Error::InvalidArgument) << "still a double free";
        auto other = h.alloc(100);
        ASSERT_TRUE(other.ok());
        EXPECT_NE(*other, buf) << "not reused while in flight";
        ASSERT_TRUE(h.app_free((*other)->data()).ok());
    }
    EXPECT_EQ(h.live(), 0u);
    auto again = h.alloc(100);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, buf) << "returned to its free list once the push let go";
}

TEST(DmaHeap, InteriorPointersNameTheirBuffer) {
    DmaHeap h = make();
    // Blocks of several classes side by side: every byte of each one's data
    // maps back to it, never to a neighbour.
    Buffer* bufs[6];
    const size_t sizes[6] = {10, 3000, 100, 60000, 129, 2000};
    for (int i = 0; i < 6; ++i) {
        auto b = h.alloc(sizes[i]);
        ASSERT_TRUE(b.ok());
        bufs[i] = *b;
    }
    for (Buffer* b : bufs) {
        for (size_t off = 0; off < b->capacity; off += 7) {
            auto o = h.owner_of(b->data() + off);
            ASSERT_TRUE(o.ok()) << off;
            EXPECT_EQ(*o, b);
        }
        auto last = h.owner_of(b->data() + b->capacity - 1);
        ASSERT_TRUE(last.ok());
        EXPECT_EQ(*last, b);
    }
    // Freeing through an interior pointer drops the app's reference once.
    ASSERT_TRUE(h.app_free(bufs[1]->data() + 54).ok());
    EXPECT_EQ(h.app_free(bufs[1]->data()).error(), Error::InvalidArgument);
    EXPECT_EQ(h.owner_of(bufs[1]->data() + 54).error(), Error::InvalidArgument) << "free block";
}

TEST(DmaHeap, CountsBytesLive) {
    DmaHeap h = make();
    EXPECT_EQ(h.bytes_live(), 0u);
    auto a = h.alloc(1000);  // a 2 KiB block with its header
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(h.bytes_live(), 2048u);
    ASSERT_TRUE(h.app_free((*a)->data()).ok());
    EXPECT_EQ(h.bytes_live(), 0u);
    EXPECT_LE(h.bytes_total(), sizeof g_region);
}

}  // namespace
}  // namespace ringlet::mem
