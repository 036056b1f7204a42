#include "net/dma_pbuf.h"

#include "lwip/pbuf.h"

namespace ringlet::net {

namespace {

struct DmaPbuf {
    pbuf_custom custom;  // first: lwIP hands the custom free function this pointer
    mem::Buffer* buffer;
    DmaPbuf* next_free;
};

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

}  // namespace

void attach_heap(mem::DmaHeap* heap) { g_heap = heap; }
mem::DmaHeap* attached_heap() { return g_heap; }

pbuf* wrap_dma(mem::Buffer* b, uint32_t offset, uint32_t len) {
    if (!g_pool_ready) init_pool();
    const bool fits = len > 0 && len <= 0xffff && offset <= b->capacity && len <= b->capacity - offset;
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
    const auto n = static_cast<u16_t>(len);
    pbuf* p = pbuf_alloced_custom(PBUF_RAW, n, PBUF_REF, &d->custom, b->data() + offset, n);
    if (p == nullptr) free_dma_pbuf(&d->custom.pbuf);  // drops the reference too
    return p;
}

bool dma_segment(const pbuf* p, mem::Buffer** b, uint32_t* offset) {
    if ((p->flags & PBUF_FLAG_IS_CUSTOM) == 0) return false;
    const auto* d = reinterpret_cast<const DmaPbuf*>(p);
    if (d->custom.custom_free_function != free_dma_pbuf) return false;  // another kind (IP_FRAG's)
    const auto* payload = static_cast<const uint8_t*>(p->payload);
    uint8_t* data = d->buffer->data();
    // pbuf_header_force may have moved the payload: only a slice that is
    // still inside the buffer can be handed to a device.
    if (payload < data || payload + p->len > data + d->buffer->capacity) return false;
    *b = d->buffer;
    *offset = static_cast<uint32_t>(payload - data);
    return true;
}

uint32_t dma_pbufs_live() { return g_live; }

}  // namespace ringlet::net
