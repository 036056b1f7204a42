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
    EXPECT_EQ(n, 16);
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
    EXPECT_EQ(h.app_free((*b)->data() + 64).error(), Error::BadAddress);  // inside, not a start
    EXPECT_EQ(h.app_free((*b)->data() + 1).error(), Error::BadAddress);
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

}  // namespace
}  // namespace ringlet::mem
