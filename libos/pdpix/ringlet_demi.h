/* Ringlet extensions to the PDPIX C API (not in Demikernel). */
#ifndef RINGLET_DEMI_H_IS_INCLUDED
#define RINGLET_DEMI_H_IS_INCLUDED

#include <demi/types.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tears down what demi_init built (queues closed, operations cancelled,
 * memory returned) so demi_init may run again; ENOSYS if not initialised.
 * EBUSY, nothing changed, if this core may not close now: on Ringlet core 0
 * drives the devices for the app's other cores and closes last, and a core
 * that drives a device queue pair of its own (RSS) keeps it for the app's
 * lifetime. After core 0 closed a NIC it shared with other cores no core
 * starts again (demi_init: EBUSY); alone on it, core 0 resets it at the
 * close and sets it up again at the next demi_init. */
int ringlet_demi_shutdown(void);

/* Instructions this core retired while the libOS slept in the OS (Ringlet's
 * wait syscall: kernel entry, idle, wake-up), so that a benchmark can count
 * only the libOS's own work. 0 where the count is not available (Linux). */
unsigned long long ringlet_demi_sleep_instructions(void);

/* The dataplane's zero-copy accounting on this core, since start: payload
 * bytes the CPU copied anywhere between the device and the app (0 on the
 * zero-copy paths; a reassembled IP fragment chain or an app holding more
 * than 3/4 of the DMA heap makes copies, counted here), received payloads
 * lent to the app in their RX buffer or copied, and frames sent with the
 * headers prepended in the app's buffer or with the payload by reference. */
struct ringlet_demi_stats {
    uint64_t payload_bytes_copied;
    uint64_t rx_lent;
    uint64_t rx_copied;
    uint64_t tx_in_place;
    uint64_t tx_by_reference;
    /* Remote-input limits: what flooding peers were refused, and how much of
     * the DMA heap is in use (a flood must not pin it). */
    uint64_t udp_rx_dropped;
    uint64_t tcp_half_open_evicted;
    uint64_t tcp_syn_dropped;
    uint64_t dma_bytes_live;
    uint64_t dma_bytes_total;
};
/* Fills *out; EINVAL for NULL. */
int ringlet_demi_stats(struct ringlet_demi_stats *out);

/* ---- Storage queues ----
 * A storage queue is the machine's block device (virtio-blk on Ringlet) as a
 * PDPIX queue. Data moves in whole sectors at byte offsets: every offset and
 * length must be a multiple of RINGLET_DEMI_SECTOR_SIZE. Buffers are DMA-heap
 * sgas (demi_sgaalloc), moved zero-copy: the device reads a pushed sga in
 * place and fills a popped one in place. Results come through the demi_wait
 * family like every other operation; a failed one is DEMI_OPC_FAILED with
 * qr_ret: EINVAL misaligned or empty (or longer than the sga), ERANGE past
 * the end of the device, ENOTSUP a write to a read-only device or a request
 * the device refused (VIRTIO_BLK_S_UNSUPP), EIO a device error
 * (VIRTIO_BLK_S_IOERR, or a device that broke its ring), ENOMEM no buffer
 * for a pop. demi_push/demi_pop on a storage queue are ENOTSUP; demi_close
 * gives the device back (operations in flight complete with ECANCELED). */
#define RINGLET_DEMI_SECTOR_SIZE 512

/* Opens the machine's block device as a storage queue: ENODEV if there is
 * none, EBUSY while a storage queue is open. */
int ringlet_demi_blk_open(int *qd_out);

/* The storage queue's size in bytes. */
int ringlet_demi_blk_capacity(int qd, uint64_t *bytes_out);

/* Starts writing sga's segment at byte `offset`. As with demi_push, the sga
 * stays the app's: the libOS holds its own reference until the device is
 * done (do not change the data until then), and demi_sgafree before that
 * only defers the free. Completes as DEMI_OPC_PUSH with the sga in qr_value;
 * a failed write leaves the sga intact and the app's. */
int ringlet_demi_pushat(demi_qtoken_t *qt_out, int qd, const demi_sgarray_t *sga, uint64_t offset);

/* Starts reading `len` bytes at byte `offset`. Completes as DEMI_OPC_POP; the
 * result's sga (one segment of len bytes) belongs to the app: demi_sgafree
 * it. */
int ringlet_demi_popat(demi_qtoken_t *qt_out, int qd, uint64_t offset, uint32_t len);

/* Starts a flush: completes (as DEMI_OPC_PUSH with an empty sga) once every
 * write that completed before it is on stable storage. */
int ringlet_demi_flush(demi_qtoken_t *qt_out, int qd);

#ifdef __cplusplus
}
#endif

#endif /* RINGLET_DEMI_H_IS_INCLUDED */
