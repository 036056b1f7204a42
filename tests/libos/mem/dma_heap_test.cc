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

// Cross-core lending (set_peers): a core's heap finds the buffers another
// core's heap lent it, and hands their last reference back instead of
// putting them on its own free lists.
alignas(64) unsigned char g_peer_region[1 << 20];

struct GivenBack {
    Buffer* bufs[8];
    int n = 0;
};

TEST(DmaHeap, PeerBuffersAreFoundAndTheirLastReferenceGoesHome) {
    DmaHeap owner = make();
    auto other_or = DmaHeap::create(g_peer_region, sizeof g_peer_region);
    ASSERT_TRUE(other_or.ok());
    DmaHeap other = *other_or;
    DmaHeap* peers[1] = {&owner};
    GivenBack back;
    other.set_peers(peers, 1, [](void* ctx, Buffer* b) {
        auto* g = static_cast<GivenBack*>(ctx);
        g->bufs[g->n++] = b;
    }, &back);

    auto lent = owner.alloc(100);  // as if received by the owner and handed over
    ASSERT_TRUE(lent.ok());
    Buffer* b = *lent;
    // The other core pops it in place: it finds the buffer by any pointer inside.
    auto found = other.app_buffer(b->data() + 10);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, b);
    // A push in flight takes a reference; the app frees; the push completes.
    other.retain(b);
    ASSERT_TRUE(other.app_free(b->data()).ok());
    EXPECT_EQ(back.n, 0);  // one reference still held
    EXPECT_EQ(b->refs, 1u);
    other.release(b);
    ASSERT_EQ(back.n, 1);  // the last one went home, untouched
    EXPECT_EQ(back.bufs[0], b);
    EXPECT_EQ(b->refs, 1u);
    EXPECT_EQ(owner.live(), 1u);
    EXPECT_EQ(other.live(), 0u);
    owner.release(b);  // the owner frees it
    EXPECT_EQ(owner.live(), 0u);

    // Its own buffers stay its own; a pointer in nobody's heap is foreign.
    auto mine = other.alloc(64);
    ASSERT_TRUE(mine.ok());
    EXPECT_EQ(other.owner_of((*mine)->data()).value(), *mine);
    ASSERT_TRUE(other.app_free((*mine)->data()).ok());
    EXPECT_EQ(back.n, 1);
    int x = 0;
    EXPECT_EQ(other.owner_of(&x).error(), Error::BadAddress);
}

}  // namespace
}  // namespace ringlet::mem

namespace ringlet::mem {
namespace {

// reuse_last(): only the last reference to a buffer of this heap and of the
// class alloc(len) would pick is reused (as alloc(len) returns it); else
// nothing changes.
TEST(DmaHeap, ReuseLastTakesOnlyTheLastReferenceOfTheSameClass) {
    DmaHeap heap = make();
    auto a = heap.alloc(1500);
    ASSERT_TRUE(a.ok());
    Buffer* b = *a;
    const uint32_t live = heap.live();
    b->off = 40;
    b->len = 7;
    b->app_owned = false;
    heap.retain(b);
    EXPECT_FALSE(heap.reuse_last(b, 1500));  // two references
    heap.release(b);
    EXPECT_FALSE(heap.reuse_last(b, 100));   // another class
    EXPECT_TRUE(heap.reuse_last(b, 1500));
    EXPECT_EQ(b->refs, 1u);
    EXPECT_EQ(b->off, 0u);
    EXPECT_EQ(b->len, 1500u);
    EXPECT_TRUE(b->app_owned);
    EXPECT_EQ(heap.live(), live);  // still live, never freed
    heap.release(b);
    EXPECT_EQ(heap.live(), live - 1);
}

}  // namespace
}  // namespace ringlet::mem
