// The fixture behind the net tests: a LibOs over an LwipBackend with one or
// two FakeNics, on a virtual clock that jumps to the next timer whenever the
// core would sleep (so lwIP's timers, retransmissions and TIME_WAIT run in
// no real time), plus helpers to drive the executor and check for leaks.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <memory>

#include "libos/pdpix/libos.h"
#include "net/dma_pbuf.h"
#include "net/lwip_backend.h"
#include "net/stack.h"
#include "tests/net/fake_nic.h"

namespace ringlet::net::test {

class VirtualClock final : public rt::Platform {
public:
    uint64_t now_ns() override { return m_now; }
    void block(uint64_t deadline_ns) override {
        ++m_blocks;
        if (deadline_ns != rt::kForever && deadline_ns > m_now) m_now = deadline_ns;
    }
    uint64_t m_now = 5'000'000'000ull;
    uint64_t m_blocks = 0;
};

inline constexpr MacAddress kMacA{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
inline constexpr MacAddress kMacB{{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}};
inline constexpr MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
inline constexpr MacAddress kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr uint32_t kIpA = ipv4(10, 0, 2, 15);
inline constexpr uint32_t kIpB = ipv4(10, 0, 2, 16);
inline constexpr uint32_t kPeerIp = ipv4(10, 0, 2, 2);

inline bool same_mac(MacAddress a, MacAddress b) { return memcmp(a.bytes, b.bytes, 6) == 0; }

class NetTest : public ::testing::Test {
protected:
    static constexpr size_t kFrameBytes = 16u << 20;
    static constexpr size_t kDmaBytes = 64u << 20;

    NetTest() {
        m_frames = mmap(nullptr, kFrameBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        m_dma = mmap(nullptr, kDmaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        m_asserts_before = lwip_assert_count();
    }
    ~NetTest() override {
        os.reset();
        backend.reset();
        munmap(m_frames, kFrameBytes);
        munmap(m_dma, kDmaBytes);
    }
    void TearDown() override { EXPECT_EQ(lwip_assert_count(), m_asserts_before) << "lwIP assertion failed"; }

    // Builds the LibOs over nic_a (10.0.2.15), and nic_b (10.0.2.16) when
    // `two`, wired together when `two`.
    void boot(bool two = false) {
        backend = std::make_unique<LwipBackend>(clock);
        NetConfig a;
        ASSERT_TRUE(backend->add_interface(nic_a, a).ok());
        if (two) {
            NetConfig b;
            b.address = kIpB;
            ASSERT_TRUE(backend->add_interface(nic_b, b).ok());
            nic_a.connect(&nic_b);
            nic_b.connect(&nic_a);
        }
        auto pool = rt::FramePool::create(m_frames, kFrameBytes);
        auto heap = mem::DmaHeap::create(m_dma, kDmaBytes);
        ASSERT_TRUE(pool.ok() && heap.ok());
        os = std::make_unique<pdpix::LibOs>(*backend, *pool, *heap);
        ASSERT_TRUE(os->start().ok());
        run_for_ms(1);  // the gratuitous ARPs go out
        nic_a.sent.clear();
        nic_b.sent.clear();
    }

    // Runs the core until `ms` of (virtual) time passed.
    void run_for_ms(uint64_t ms) {
        const uint64_t end = clock.now_ns() + ms * 1000000;
        (void)os->executor().run_until([] { return false; }, end);
    }
    // Runs until pred() or `ms` of virtual time; true if pred() held.
    template <typename Pred>
    bool run_until(Pred pred, uint64_t ms = 10000) {
        return os->executor().run_until(pred, clock.now_ns() + ms * 1000000).ok();
    }
    // Waits for a qtoken (virtual time); the demi_qresult_t.
    demi_qresult_t wait(demi_qtoken_t qt, uint64_t ms = 10000) {
        demi_qresult_t r{};
        timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000};
        last_wait = os->wait(&r, qt, &ts);
        return r;
    }
    // The next frame nic_a sent (runs the core until there is one).
    Parsed next_sent(FakeNic& nic) {
        EXPECT_TRUE(run_until([&] { return !nic.sent.empty(); })) << "nothing transmitted";
        if (nic.sent.empty()) return {};
        Parsed p = parse(nic.sent.front());
        nic.sent.pop_front();
        return p;
    }
    // Teaches nic_a's stack the peer's MAC (an ARP request for 10.0.2.15)
    // and swallows the reply.
    void learn_peer() {
        nic_a.inject(ethernet(kBroadcast, kPeerMac, kEthArp, arp(1, kPeerMac, kPeerIp, MacAddress{}, kIpA)));
        Parsed p = next_sent(nic_a);
        ASSERT_EQ(p.arp_op, 2);
    }
    demi_sgarray_t sga_with(const Bytes& data) {
        auto s = os->sgaalloc(data.size());
        EXPECT_TRUE(s.ok());
        memcpy(s->sga_segs[0].sgaseg_buf, data.data(), data.size());
        return *s;
    }
    static sockaddr_in addr(uint32_t ip, uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = ip;
        a.sin_port = htons(port);
        return a;
    }

    VirtualClock clock;
    FakeNic nic_a{kMacA};
    FakeNic nic_b{kMacB};
    std::unique_ptr<LwipBackend> backend;
    std::unique_ptr<pdpix::LibOs> os;
    int last_wait = 0;

private:
    void* m_frames;
    void* m_dma;
    uint32_t m_asserts_before;
};

}  // namespace ringlet::net::test
