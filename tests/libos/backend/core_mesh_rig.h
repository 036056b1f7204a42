// Shared by the CoreMesh tests (core_mesh_test.cc, core_mesh_closing_test.cc):
// a fake single-queue device, a frame sink, frame builders and a two-heap rig.
#pragma once

#include "libos/backend/core_mesh.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace ringlet::backend {
namespace {

constexpr uint32_t kHeadroom = 12;

// A single-queue device: frames queued by the test come out of poll();
// transmitted frames are recorded (bytes) and their references dropped.
// Other cores' frames (send_lent, the LentTx) are recorded with where their
// bytes were read from and held "at the device" until complete().
class FakeDevice final : public net::NicPort {
public:
    net::MacAddress mac() const override { return {{2, 0, 0, 0, 0, 1}}; }
    uint32_t tx_headroom() const override { return kHeadroom; }
    Result<void> start(mem::DmaHeap& heap) override {
        m_heap = &heap;
        return {};
    }
    Result<void> transmit(const net::TxSegment* segs, uint32_t n, const net::ChecksumRequest*) override {
        if (refuse) {  // a full ring: the reference is dropped all the same
            for (uint32_t i = 0; i < n; ++i) m_heap->release(segs[i].buf);
            return Error::Full;
        }
        std::vector<uint8_t> frame;
        for (uint32_t i = 0; i < n; ++i) {
            const uint8_t* p = segs[i].buf->data() + segs[i].offset;
            frame.insert(frame.end(), p, p + segs[i].len);
            m_heap->release(segs[i].buf);
        }
        sent.push_back(frame);
        return {};
    }
    uint32_t poll(uint32_t max, net::FrameSink& sink) override {
        uint32_t n = 0;
        while (n < max && !queued.empty()) {
            const std::vector<uint8_t> f = queued.front();
            queued.erase(queued.begin());
            mem::Buffer* b = *m_heap->alloc(f.size() + kHeadroom);
            memcpy(b->data() + kHeadroom, f.data(), f.size());
            sink.receive(b, kHeadroom, static_cast<uint32_t>(f.size()), false);
            ++n;
        }
        return n;
    }
    static Result<void> send_lent(void* ctx, const net::TxSegment* segs, uint32_t n, uint64_t tag) {
        auto* d = static_cast<FakeDevice*>(ctx);
        if (d->refuse) {  // refused: handed back at once, as VirtioNic does
            CoreMesh::lent_done(d->mesh, tag);
            return Error::IoError;
        }
        if (d->ring_full) return Error::Full;  // no room: still the sender's, no lent_done
        std::vector<uint8_t> frame;
        for (uint32_t i = 0; i < n; ++i) {
            const uint8_t* p = segs[i].buf->data() + segs[i].offset;
            frame.insert(frame.end(), p, p + segs[i].len);
            read_from.push_back(p);
        }
        d->sent.push_back(frame);
        d->at_device.push_back(tag);
        return {};
    }
    // The device has used every lent frame it holds.
    void complete() {
        for (uint64_t tag : at_device) CoreMesh::lent_done(mesh, tag);
        at_device.clear();
    }
    std::vector<std::vector<uint8_t>> queued;
    std::vector<std::vector<uint8_t>> sent;
    std::vector<uint64_t> at_device;
    static inline std::vector<const uint8_t*> read_from;
    CoreMesh* mesh = nullptr;
    bool refuse = false;
    bool ring_full = false;  // send_lent answers Full

private:
    mem::DmaHeap* m_heap = nullptr;
};

// What a core's stack received.
class Sink final : public net::FrameSink {
public:
    explicit Sink(mem::DmaHeap& heap) : m_heap(heap) {}
    void receive(mem::Buffer* b, uint32_t offset, uint32_t len, bool) override {
        frames.emplace_back(b->data() + offset, b->data() + offset + len);
        if (keep) held.push_back(b);
        else m_heap.release(b);
    }
    std::vector<std::vector<uint8_t>> frames;
    std::vector<mem::Buffer*> held;
    bool keep = false;

private:
    mem::DmaHeap& m_heap;
};

[[maybe_unused]] std::vector<uint8_t> udp_frame(uint16_t src_port, uint8_t tag, uint16_t dst_port = 5555) {
    std::vector<uint8_t> f(14 + 20 + 8 + 4, 0);
    f[12] = 0x08;  // IPv4
    f[14] = 0x45;
    f[16] = 0;
    f[17] = 32;  // total length
    f[22] = 64;
    f[23] = 17;  // UDP
    const uint8_t src[4] = {10, 0, 2, 2}, dst[4] = {10, 0, 2, 15};
    memcpy(&f[26], src, 4);
    memcpy(&f[30], dst, 4);
    f[34] = static_cast<uint8_t>(src_port >> 8);
    f[35] = static_cast<uint8_t>(src_port);
    f[36] = static_cast<uint8_t>(dst_port >> 8);
    f[37] = static_cast<uint8_t>(dst_port);
    f[38] = 0;
    f[39] = 12;
    f[42] = tag;
    return f;
}

[[maybe_unused]] std::vector<uint8_t> arp_reply() {
    std::vector<uint8_t> f(42, 0);
    f[12] = 0x08;
    f[13] = 0x06;
    f[20] = 0;
    f[21] = 2;  // reply
    return f;
}

[[maybe_unused]] uint32_t core_of(const CoreMesh& m, const std::vector<uint8_t>& f) {
    return m.steering().core_for_frame(f.data(), f.size());
}

struct Rig {
    Rig() {
        owner_heap = *mem::DmaHeap::create(owner_region, sizeof owner_region);
        other_heap = *mem::DmaHeap::create(other_region, sizeof other_region);
        mesh = std::make_unique<CoreMesh>();
        EXPECT_TRUE(mesh->init(2, dev.mac(), kHeadroom, &Rig::wake, this).ok());
        EXPECT_TRUE(mesh->track_lent(owner_region, sizeof owner_region).ok());
        dev.mesh = mesh.get();
        steering = std::make_unique<SteeringNic>(dev, *mesh, LentTx{&FakeDevice::send_lent, &dev});
        forwarded = std::make_unique<ForwardedNic>(*mesh, 1);
        EXPECT_TRUE(steering->start(owner_heap).ok());
        EXPECT_TRUE(forwarded->start(other_heap).ok());
    }
    static void wake(void* ctx, uint32_t, uint32_t to) { ++static_cast<Rig*>(ctx)->wakes[to]; }
    // A source port whose flow hashes to `core`.
    uint16_t port_for(uint32_t core) {
        for (uint16_t p = 1024;; ++p) {
            if (core_of(*mesh, udp_frame(p, 0)) == core) return p;
        }
    }

    alignas(64) unsigned char owner_region[1 << 20];
    alignas(64) unsigned char other_region[1 << 20];
    mem::DmaHeap owner_heap, other_heap;
    FakeDevice dev;
    std::unique_ptr<CoreMesh> mesh;
    std::unique_ptr<SteeringNic> steering;
    std::unique_ptr<ForwardedNic> forwarded;
    int wakes[kMeshCores] = {};
};

}  // namespace
}  // namespace ringlet::backend
