#include "user/kv/disk.h"

#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>
#include <string.h>

#include "libos/pdpix/ringlet_demi.h"

namespace kv {

int Disk::open() {
    int qd = -1;
    if (const int e = ringlet_demi_blk_open(&qd); e != 0) return e;
    if (const int e = ringlet_demi_blk_capacity(qd, &m_capacity); e != 0) return e;
    m_qd = qd;
    return 0;
}

int Disk::finish(demi_qtoken_t qt) {
    demi_qresult_t qr;
    if (const int e = demi_wait(&qr, qt, nullptr); e != 0) return e;
    if (qr.qr_opcode == DEMI_OPC_FAILED) return qr.qr_ret != 0 ? static_cast<int>(qr.qr_ret) : EIO;
    if (qr.qr_opcode == DEMI_OPC_POP) (void)demi_sgafree(&qr.qr_value.sga);
    return 0;
}

int Disk::read(uint64_t offset, uint8_t* dst, size_t len) {
    while (len > 0) {
        const uint32_t n = len > kChunk ? kChunk : static_cast<uint32_t>(len);
        demi_qtoken_t qt;
        if (const int e = ringlet_demi_popat(&qt, m_qd, offset, n); e != 0) return e;
        demi_qresult_t qr;
        if (const int e = demi_wait(&qr, qt, nullptr); e != 0) return e;
        if (qr.qr_opcode != DEMI_OPC_POP) return qr.qr_ret != 0 ? static_cast<int>(qr.qr_ret) : EIO;
        memcpy(dst, qr.qr_value.sga.sga_segs[0].sgaseg_buf, n);
        (void)demi_sgafree(&qr.qr_value.sga);
        dst += n;
        offset += n;
        len -= n;
    }
    return 0;
}

int Disk::write(uint64_t offset, const uint8_t* src, size_t len) {
    while (len > 0) {
        const uint32_t n = len > kChunk ? kChunk : static_cast<uint32_t>(len);
        demi_sgarray_t sga = demi_sgaalloc(n);
        if (sga.sga_numsegs == 0) return ENOMEM;
        memcpy(sga.sga_segs[0].sgaseg_buf, src, n);
        demi_qtoken_t qt;
        int e = ringlet_demi_pushat(&qt, m_qd, &sga, offset);
        if (e == 0) e = finish(qt);
        (void)demi_sgafree(&sga);
        if (e != 0) return e;
        src += n;
        offset += n;
        len -= n;
    }
    return 0;
}

int Disk::flush() {
    demi_qtoken_t qt;
    if (const int e = ringlet_demi_flush(&qt, m_qd); e != 0) return e;
    return finish(qt);
}

ChunkWriter::~ChunkWriter() {
    if (m_sga.sga_numsegs != 0) (void)demi_sgafree(&m_sga);
}

int ChunkWriter::write_out(size_t len) {
    demi_qtoken_t qt;
    int e = ringlet_demi_pushat(&qt, m_disk.qd(), &m_sga, m_offset);
    if (e == 0) e = Disk::finish(qt);
    (void)demi_sgafree(&m_sga);
    m_sga = demi_sgarray_t{};
    m_offset += len;
    m_used = 0;
    return e;
}

bool ChunkWriter::put(const void* p, size_t n) {
    if (m_error != 0) return false;
    if (n > m_limit - m_total || m_total + n > m_limit) {
        m_error = ENOSPC;
        return false;
    }
    const auto* src = static_cast<const uint8_t*>(p);
    while (n > 0) {
        if (m_sga.sga_numsegs == 0) {
            m_sga = demi_sgaalloc(Disk::kChunk);
            if (m_sga.sga_numsegs == 0) {
                m_error = ENOMEM;
                return false;
            }
        }
        auto* buf = static_cast<uint8_t*>(m_sga.sga_segs[0].sgaseg_buf);
        const size_t take = n < Disk::kChunk - m_used ? n : Disk::kChunk - m_used;
        memcpy(buf + m_used, src, take);
        m_used += take;
        m_total += take;
        src += take;
        n -= take;
        if (m_used == Disk::kChunk && (m_error = write_out(Disk::kChunk)) != 0) return false;
    }
    return true;
}

int ChunkWriter::finish() {
    if (m_error != 0 || m_used == 0) return m_error;
    const size_t padded = (m_used + 511) & ~size_t{511};
    auto* buf = static_cast<uint8_t*>(m_sga.sga_segs[0].sgaseg_buf);
    memset(buf + m_used, 0, padded - m_used);
    m_sga.sga_segs[0].sgaseg_len = static_cast<uint32_t>(padded);
    m_error = write_out(padded);
    return m_error;
}

}  // namespace kv
