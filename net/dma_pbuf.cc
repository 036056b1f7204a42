#include "net/dma_pbuf.h"

#include <stddef.h>

#include "lwip/pbuf.h"

namespace ringlet::net {

namespace {

struct DmaPbuf {
    pbuf_custom custom;  // first: lwIP hands the custom free function this pointer
    mem::Buffer* buffer;
    DmaPbuf* next_free;
};

// The in-place wrapper at the very end of the buffer's header, so lwIP's
// bound (payload may grow down to the pbuf struct's end) is data() - 8.
struct InPlace {
    uint8_t busy;
    pbuf_custom custom;
};
constexpr size_t kInPlaceAt = sizeof(mem::Buffer::stack) - sizeof(InPlace);
static_assert(sizeof(InPlace) <= sizeof(mem::Buffer::stack), "the in-place wrapper fits the header's scratch");
static_assert(offsetof(mem::Buffer, stack) + sizeof(mem::Buffer::stack) == sizeof(mem::Buffer),
              "the scratch ends where data() starts");
static_assert(offsetof(InPlace, custom) + sizeof(pbuf_custom) == sizeof(InPlace), "the pbuf ends the wrapper");

InPlace* in_place_of(mem::Buffer* b) { return reinterpret_cast<InPlace*>(b->stack + kInPlaceAt); }
mem::Buffer* buffer_of(InPlace* w) {
    return reinterpret_cast<mem::Buffer*>(reinterpret_cast<uint8_t*>(w) - kInPlaceAt - offsetof(mem::Buffer, stack));
}
InPlace* in_place_of(const pbuf* p) {
    return reinterpret_cast<InPlace*>(reinterpret_cast<uint8_t*>(const_cast<pbuf*>(p)) - offsetof(InPlace, custom));
}

DmaPbuf g_pool[kDmaPbufs];
DmaPbuf* g_free = nullptr;
bool g_pool_ready = false;
uint32_t g_live = 0;
mem::DmaHeap* g_heap = nullptr;

void init_pool() {
    for (uint32_t i = 0; i < kDmaPbufs; ++i) g_pool[i].next_free = i + 1 < kDmaPbufs ? &g_pool[i + 1] : nullptr;
    g_free = &g_pool[0];
    g_pool_ready = true;
}

// lwIP's custom free: called by pbuf_free when the last reference goes,
// from whatever task is inside lwIP at that moment.
void free_dma_pbuf(pbuf* p) {
    auto* d = reinterpret_cast<DmaPbuf*>(p);
    if (g_heap != nullptr) g_heap->release(d->buffer);
    d->buffer = nullptr;
    d->next_free = g_free;
    g_free = d;
    --g_live;
}

// Inlined into free_if_in_place (the TCP fast path's every acknowledged
// segment); lwIP calls the out-of-line copy through custom_free_function.
[[gnu::always_inline]] inline void free_in_place(pbuf* p) {
    InPlace* w = in_place_of(p);
    w->busy = 0;
    --g_live;
    if (g_heap != nullptr) g_heap->release(buffer_of(w));
}

}  // namespace

void attach_heap(mem::DmaHeap* heap) { g_heap = heap; }
mem::DmaHeap* attached_heap() { return g_heap; }

pbuf* wrap_dma(mem::Buffer* b, uint32_t offset, uint32_t len, bool in_place) {
    if (!g_pool_ready) init_pool();
    const bool fits = len > 0 && len <= 0xffff && offset <= b->capacity && len <= b->capacity - offset;
    const auto n = static_cast<u16_t>(len);
    if (fits && in_place && in_place_of(b)->busy == 0) {
        InPlace* w = in_place_of(b);
        w->busy = 1;
        w->custom.custom_free_function = free_in_place;
        ++g_live;
        // PBUF_RAM's type bits say "payload follows the struct in one piece",
        // which lets lwIP prepend headers; the custom flag still routes the
        // free to us (pbuf_free checks it first, pbuf_realloc skips it).
        pbuf* p = pbuf_alloced_custom(PBUF_RAW, n, PBUF_RAM, &w->custom, b->data() + offset, n);
        if (p == nullptr) free_in_place(&w->custom.pbuf);
        return p;
    }
    if (!fits || g_free == nullptr) {
        if (g_heap != nullptr) g_heap->release(b);
        return nullptr;
    }
    DmaPbuf* d = g_free;
    g_free = d->next_free;
    d->next_free = nullptr;
    d->buffer = b;
    d->custom.custom_free_function = free_dma_pbuf;
    ++g_live;
    pbuf* p = pbuf_alloced_custom(PBUF_RAW, n, PBUF_REF, &d->custom, b->data() + offset, n);
    if (p == nullptr) free_dma_pbuf(&d->custom.pbuf);  // drops the reference too
    return p;
}

pbuf* wrap_in_place(mem::Buffer* b, uint32_t offset, uint32_t len) {
    InPlace* w = in_place_of(b);
    if (len == 0 || len > 0xffff || offset > b->capacity || len > b->capacity - offset || w->busy != 0) return nullptr;
    const auto n = static_cast<u16_t>(len);
    w->busy = 1;
    w->custom.custom_free_function = free_in_place;
    // As wrap_dma: PBUF_RAM's type bits let lwIP prepend headers in front.
    pbuf* p = pbuf_alloced_custom(PBUF_RAW, n, PBUF_RAM, &w->custom, b->data() + offset, n);
    if (p == nullptr) {
        w->busy = 0;
        return nullptr;
    }
    ++b->refs;  // the wrapper's, as DmaHeap::retain
    ++g_live;
    return p;
}

bool free_if_in_place(pbuf* p) {
    if ((p->flags & PBUF_FLAG_IS_CUSTOM) == 0 || p->ref != 1 || p->next != nullptr ||
        reinterpret_cast<const pbuf_custom*>(p)->custom_free_function != free_in_place) {
        return false;
    }
    free_in_place(p);
    return true;
}

bool is_in_place(const pbuf* p) {
    return (p->flags & PBUF_FLAG_IS_CUSTOM) != 0 &&
           reinterpret_cast<const pbuf_custom*>(p)->custom_free_function == free_in_place;
}

bool dma_segment(const pbuf* p, mem::Buffer** b, uint32_t* offset) {
    if ((p->flags & PBUF_FLAG_IS_CUSTOM) == 0) return false;
    mem::Buffer* buf;
    const auto free_fn = reinterpret_cast<const pbuf_custom*>(p)->custom_free_function;
    if (free_fn == free_dma_pbuf) {
        buf = reinterpret_cast<const DmaPbuf*>(p)->buffer;
    } else if (free_fn == free_in_place) {
        buf = buffer_of(in_place_of(p));
    } else {
        return false;  // another kind (IP_FRAG's)
    }
    const auto* payload = static_cast<const uint8_t*>(p->payload);
    uint8_t* data = buf->data();
    // pbuf_header_force may have moved the payload: only a slice that is
    // still inside the buffer can be handed to a device.
    if (payload < data || payload + p->len > data + buf->capacity) return false;
    *b = buf;
    *offset = static_cast<uint32_t>(payload - data);
    return true;
}

uint32_t dma_pbufs_live() { return g_live; }

}  // namespace ringlet::net
