#include "user/httpd/file_buffers.h"

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <string.h>

#include "libos/pdpix/ringlet_demi.h"

namespace httpd {

namespace {

uint32_t round_up(uint32_t n, uint32_t to) { return (n + to - 1) / to * to; }

// Reads len bytes (a sector multiple) at offset from the storage queue into
// a fresh DMA buffer; numsegs 0 on failure.
demi_sgarray_t read_at(int qd, uint64_t offset, uint32_t len) {
    demi_sgarray_t none;
    memset(&none, 0, sizeof none);
    demi_qtoken_t qt;
    if (ringlet_demi_popat(&qt, qd, offset, len) != 0) return none;
    demi_qresult_t qr;
    if (demi_wait(&qr, qt, nullptr) != 0 || qr.qr_opcode != DEMI_OPC_POP) return none;
    return qr.qr_value.sga;
}

const uint8_t kEmpty[1] = {0};  // where an empty file's bytes "are"

// Gives the storage queue back however the load ends.
struct QueueCloser {
    int qd;
    ~QueueCloser() { (void)demi_close(qd); }
};

}  // namespace

bool FileBuffers::alloc_chunks(const File& f, FileChunks* out, const char** why) {
    out->count = 0;
    if (f.len > kChunk * kMaxChunks) {
        *why = "a file is larger than httpd serves (1 MiB)";
        return false;
    }
    for (uint32_t off = 0; off < f.len; off += kChunk) {
        const uint32_t n = f.len - off < kChunk ? f.len - off : kChunk;
        demi_sgarray_t sga = demi_sgaalloc(n);
        if (sga.sga_numsegs == 0) {
            *why = "the DMA heap cannot hold the content tree";
            return false;
        }
        out->chunk[out->count++] = sga;
    }
    return true;
}

bool FileBuffers::from_archive(Site& site, const uint8_t* archive, size_t n, const char** why) {
    if (!site.load(archive, n, true, why)) return false;
    for (uint32_t i = 0; i < site.count(); ++i) {
        const File& f = site.file(i);
        FileChunks& c = m_files[i];
        if (!alloc_chunks(f, &c, why)) return false;
        for (uint32_t k = 0; k < c.count; ++k) {
            memcpy(c.chunk[k].sga_segs[0].sgaseg_buf, f.data + k * kChunk, c.chunk[k].sga_segs[0].sgaseg_len);
        }
        // Served from the buffers from now on.
        site.set_loaded(i, c.count ? static_cast<const uint8_t*>(c.chunk[0].sga_segs[0].sgaseg_buf) : kEmpty, f.hash);
    }
    return true;
}

bool FileBuffers::from_disk(Site& site, const char** why) {
    int qd = -1;
    if (ringlet_demi_blk_open(&qd) != 0) {
        *why = "no block device to read the content tree from";
        return false;
    }
    const QueueCloser closer{qd};
    uint32_t have = 0, need = RINGLET_DEMI_SECTOR_SIZE;
    while (need > have) {
        const uint32_t len = round_up(need, RINGLET_DEMI_SECTOR_SIZE);
        if (len > sizeof m_index) {
            *why = "the archive's index is too large";
            return false;
        }
        demi_sgarray_t sga = read_at(qd, 0, len);
        if (sga.sga_numsegs == 0) {
            *why = "cannot read the disk";
            return false;
        }
        memcpy(m_index, sga.sga_segs[0].sgaseg_buf, len);
        (void)demi_sgafree(&sga);
        have = len;
        if (!Site::index_bytes(m_index, have, &need)) {
            *why = "no site archive on the disk";
            return false;
        }
    }
    if (!site.load(m_index, have, false, why)) return false;
    for (uint32_t i = 0; i < site.count(); ++i) {
        const File& f = site.file(i);
        FileChunks& c = m_files[i];
        c.count = 0;
        uint64_t hash = kFnvBasis;
        for (uint32_t off = 0; off < f.len; off += kChunk) {
            const uint32_t n = f.len - off < kChunk ? f.len - off : kChunk;
            if (c.count == kMaxChunks) {
                *why = "a file is larger than httpd serves (1 MiB)";
                return false;
            }
            // The sectors land in their own buffer, which is then served as
            // it is (only its length trimmed to the file's bytes).
            demi_sgarray_t sga = read_at(qd, f.data_off + off, round_up(n, RINGLET_DEMI_SECTOR_SIZE));
            if (sga.sga_numsegs == 0) {
                *why = "cannot read a file from the disk";
                return false;
            }
            sga.sga_segs[0].sgaseg_len = n;
            hash = fnv1a64(static_cast<const uint8_t*>(sga.sga_segs[0].sgaseg_buf), n, hash);
            c.chunk[c.count++] = sga;
        }
        site.set_loaded(i, c.count ? static_cast<const uint8_t*>(c.chunk[0].sga_segs[0].sgaseg_buf) : kEmpty, hash);
    }
    return true;
}

}  // namespace httpd
