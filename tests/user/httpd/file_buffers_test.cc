// FileBuffers over a real LibOs (loopback backend) and a fake block device:
// files copied once into DMA buffers from an archive, or read from the
// disk straight into them; chunking, ETags over chunks, and refusals.
#include "user/httpd/file_buffers.h"

#include <demi/sga.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "libos/backend/loopback.h"
#include "libos/pdpix/libos.h"
#include "tests/libos/pdpix/fake_block.h"
#include "user/httpd/root_dir.h"

namespace httpd {
namespace {

using ringlet::test::FakeBlock;
using ringlet::test::FakeStorage;

class HttpdFileBuffers : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/httpd_fb_XXXXXX";
        m_dir = mkdtemp(tmpl);
        // 150,000 bytes: three chunks (64 KiB, 64 KiB, the rest).
        std::string big(150000, 'x');
        for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
        write("big.txt", big);
        write("a.css", "p{}");
        write("empty", "");
        m_big = big;
        const char* why = "";
        ASSERT_TRUE(pack_directory(m_dir.c_str(), &m_archive, &m_len, &why)) << why;
    }
    void TearDown() override {
        m_os.reset();
        ringlet::pdpix::LibOs::set_instance(nullptr);
        ringlet::rt::Executor::install(nullptr);
        ringlet::rt::FramePool::install(nullptr);
        free(m_archive);
        (void)!system(("rm -rf " + m_dir).c_str());
    }
    void write(const std::string& name, const std::string& text) {
        FILE* f = fopen((m_dir + "/" + name).c_str(), "wb");
        fwrite(text.data(), 1, text.size(), f);
        fclose(f);
    }
    void start(ringlet::pdpix::Storage* storage, size_t dma_bytes = 4 << 20) {
        m_dma.resize(dma_bytes / sizeof(Chunk));
        auto pool = ringlet::rt::FramePool::create(m_frames.data(), m_frames.size() * sizeof(Chunk));
        auto heap = ringlet::mem::DmaHeap::create(m_dma.data(), m_dma.size() * sizeof(Chunk));
        ASSERT_TRUE(pool.ok() && heap.ok());
        m_os = std::make_unique<ringlet::pdpix::LibOs>(m_backend, *pool, *heap, storage);
        ringlet::pdpix::LibOs::set_instance(m_os.get());
        ASSERT_TRUE(m_os->start().ok());
    }
    // The file's bytes, gathered from its chunks.
    std::string gather(const FileChunks& c) {
        std::string out;
        for (uint32_t i = 0; i < c.count; ++i) {
            out.append(static_cast<const char*>(c.chunk[i].sga_segs[0].sgaseg_buf), c.chunk[i].sga_segs[0].sgaseg_len);
        }
        return out;
    }
    void check_site(const Site& site, const FileBuffers& fb) {
        const File* big = site.find("/big.txt");
        ASSERT_NE(big, nullptr);
        const FileChunks& c = fb.chunks(site, big);
        EXPECT_EQ(c.count, 3u);
        EXPECT_EQ(c.chunk[0].sga_segs[0].sgaseg_len, kChunk);
        EXPECT_EQ(gather(c), m_big);
        EXPECT_EQ(big->hash, fnv1a64(reinterpret_cast<const uint8_t*>(m_big.data()), m_big.size()))
            << "the ETag covers the whole file, across chunks";
        EXPECT_EQ(big->data, c.chunk[0].sga_segs[0].sgaseg_buf) << "served from the DMA buffers";
        const File* css = site.find("/a.css");
        ASSERT_NE(css, nullptr);
        EXPECT_EQ(gather(fb.chunks(site, css)), "p{}");
        const File* empty = site.find("/empty");
        ASSERT_NE(empty, nullptr);
        EXPECT_EQ(fb.chunks(site, empty).count, 0u);
        EXPECT_NE(empty->data, nullptr) << "an empty file exists (200 with no body), it is not a 404";
    }

    struct alignas(64) Chunk {
        unsigned char b[64];
    };
    std::vector<Chunk> m_frames = std::vector<Chunk>((4 << 20) / sizeof(Chunk));
    std::vector<Chunk> m_dma;
    ringlet::backend::LoopbackBackend m_backend;
    std::unique_ptr<ringlet::pdpix::LibOs> m_os;
    std::string m_dir, m_big;
    uint8_t* m_archive = nullptr;
    size_t m_len = 0;
    // Big (the disk index buffer): on the heap, not in the fixture.
    std::unique_ptr<Site> m_site = std::make_unique<Site>();
    std::unique_ptr<FileBuffers> m_fb = std::make_unique<FileBuffers>();
};

TEST_F(HttpdFileBuffers, FromArchiveCopiesOnceIntoDmaBuffers) {
    start(nullptr);
    const char* why = "";
    ASSERT_TRUE(m_fb->from_archive(*m_site, m_archive, m_len, &why)) << why;
    check_site(*m_site, *m_fb);
}

TEST_F(HttpdFileBuffers, FromDiskReadsStraightIntoBuffers) {
    FakeBlock dev(1 << 20);
    std::copy(m_archive, m_archive + m_len, dev.disk.begin());
    FakeStorage storage(&dev);
    start(&storage);
    const char* why = "";
    ASSERT_TRUE(m_fb->from_disk(*m_site, &why)) << why;
    check_site(*m_site, *m_fb);
    EXPECT_FALSE(storage.held) << "the disk is given back";
}

TEST_F(HttpdFileBuffers, Refusals) {
    FakeBlock blank(1 << 20);  // zeros: no archive
    FakeStorage storage(&blank);
    start(&storage, 256 << 10);  // a heap too small for the big file
    const char* why = "";
    EXPECT_FALSE(m_fb->from_disk(*m_site, &why));
    EXPECT_STREQ(why, "no site archive on the disk");
    EXPECT_FALSE(storage.held) << "a failed load gives the disk back too";
    why = "";
    EXPECT_FALSE(m_fb->from_archive(*m_site, m_archive, m_len, &why));
    EXPECT_STREQ(why, "the DMA heap cannot hold the content tree");
}

TEST_F(HttpdFileBuffers, NoDisk) {
    start(nullptr);
    const char* why = "";
    EXPECT_FALSE(m_fb->from_disk(*m_site, &why));
    EXPECT_STREQ(why, "no block device to read the content tree from");
}

}  // namespace
}  // namespace httpd
