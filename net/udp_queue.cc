// UDP queues on lwIP's raw API.
//
// Received datagrams are copied out of the frame's DMA buffer into a fresh
// DMA buffer sized to the payload (the buffer PDPIX hands the app must start
// at a heap block's data(); see the final report), with the source address
// in Buffer::meta, and queued until popped; the frame's buffer goes back at
// once. Pushes go out without a copy: the app's buffer is wrapped as a DMA
// pbuf, and the NIC reads it in place.
#include <arpa/inet.h>
#include <string.h>

#include <new>

#include "libos/rt/notifier.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "net/dma_pbuf.h"
#include "net/lwip_backend.h"
#include "net/lwip_error.h"
#include "net/queues.h"

namespace ringlet::net {

namespace {

// The largest UDP payload over IPv4 (lwIP fragments above the MTU).
constexpr uint32_t kMaxDatagram = 65507;
// Datagrams waiting to be popped; more are dropped, as a full socket buffer
// would, so a flood cannot eat the DMA heap.
constexpr uint32_t kMaxQueued = 512;

class UdpQueue final : public pdpix::Queue {
public:
    UdpQueue(LwipBackend& be, udp_pcb* pcb) : m_be(be), m_pcb(pcb) { udp_recv(m_pcb, on_recv, this); }
    ~UdpQueue() override { close(); }

    Result<void> bind(const sockaddr_in& a) override {
        if (m_pcb == nullptr) return Error::Closed;
        if (m_pcb->local_port != 0) return Error::InvalidArgument;  // bound already
        ip_addr_t ip;
        ip_addr_set_ip4_u32(&ip, a.sin_addr.s_addr);
        return lwip_result(udp_bind(m_pcb, &ip, ntohs(a.sin_port)));
    }

    rt::Task<Result<void>> push(mem::Buffer* b, uint32_t len, const sockaddr_in* to) override {
        // No connected UDP in PDPIX: every push names its destination.
        if (to == nullptr) co_return Error::InvalidArgument;
        if (m_pcb == nullptr) co_return Error::Closed;
        if (len > kMaxDatagram) co_return Error::Truncated;
        if (len > b->capacity) co_return Error::InvalidArgument;
        // The wrapper takes its own reference: lwIP may keep the pbuf (ARP
        // queue, fragments) after this push completes and the app frees.
        m_be.heap().retain(b);
        pbuf* p = len == 0 ? pbuf_alloc(PBUF_TRANSPORT, 0, PBUF_RAM) : wrap_dma(b, 0, len);
        if (len == 0) m_be.heap().release(b);
        if (p == nullptr) {
            // No wrapper left: fall back to one copy into lwIP's memory.
            p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(len), PBUF_RAM);
            if (p == nullptr) co_return Error::OutOfMemory;
            (void)pbuf_take(p, b->data(), static_cast<u16_t>(len));
        }
        ip_addr_t dst;
        ip_addr_set_ip4_u32(&dst, to->sin_addr.s_addr);
        const err_t e = udp_sendto(m_pcb, p, &dst, ntohs(to->sin_port));
        pbuf_free(p);
        m_be.kick();
        // Like a host stack: a datagram is "sent" once handed to the link;
        // an unresolved ARP queues it (ERR_OK), a refused NIC is an error.
        co_return lwip_result(e);
    }

    rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from) override {
        for (;;) {
            if (mem::Buffer* b = take()) {
                memcpy(from, b->meta, sizeof *from);
                b->app_owned = true;
                co_return b;
            }
            if (m_pcb == nullptr) co_return Error::Closed;
            co_await m_ready.wait();
        }
    }

    void close() override {
        if (m_pcb != nullptr) {
            udp_remove(m_pcb);
            m_pcb = nullptr;
        }
        while (mem::Buffer* b = take()) m_be.heap().release(b);
        m_ready.notify_all();
    }

    uint64_t dropped() const { return m_dropped; }

private:
    static void on_recv(void* arg, udp_pcb*, pbuf* p, const ip_addr_t* addr, u16_t port) {
        static_cast<UdpQueue*>(arg)->deliver(p, addr, port);
    }

    void deliver(pbuf* p, const ip_addr_t* addr, u16_t port) {
        if (m_queued >= kMaxQueued) {
            ++m_dropped;
            pbuf_free(p);
            return;
        }
        auto copy = m_be.heap().alloc(p->tot_len);
        if (!copy) {
            ++m_dropped;
            pbuf_free(p);
            return;
        }
        mem::Buffer* b = *copy;
        b->app_owned = false;  // the queue's until popped
        (void)pbuf_copy_partial(p, b->data(), p->tot_len, 0);
        pbuf_free(p);  // the frame's DMA buffer goes back now
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_port = htons(port);
        src.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(addr));
        static_assert(sizeof src <= sizeof b->meta);
        memcpy(b->meta, &src, sizeof src);
        b->next = nullptr;
        if (m_tail == nullptr) {
            m_head = m_tail = b;
        } else {
            m_tail->next = b;
            m_tail = b;
        }
        ++m_queued;
        m_ready.notify_all();
    }

    mem::Buffer* take() {
        mem::Buffer* b = m_head;
        if (b == nullptr) return nullptr;
        m_head = b->next;
        if (m_head == nullptr) m_tail = nullptr;
        b->next = nullptr;
        --m_queued;
        return b;
    }

    LwipBackend& m_be;
    udp_pcb* m_pcb;
    mem::Buffer* m_head = nullptr;
    mem::Buffer* m_tail = nullptr;
    uint32_t m_queued = 0;
    uint64_t m_dropped = 0;
    rt::Notifier m_ready;
};

}  // namespace

Result<pdpix::Queue*> make_udp_queue(LwipBackend& backend) {
    udp_pcb* pcb = udp_new();
    if (pcb == nullptr) return Error::OutOfMemory;
    auto* q = new (std::nothrow_t{}) UdpQueue(backend, pcb);
    if (q == nullptr) {
        udp_remove(pcb);
        return Error::OutOfMemory;
    }
    return static_cast<pdpix::Queue*>(q);
}

}  // namespace ringlet::net
