/* PDPIX scatter-gather arrays (Demikernel's include/demi/sga.h). */
#ifndef DEMI_SGA_H_IS_INCLUDED
#define DEMI_SGA_H_IS_INCLUDED

#include <demi/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Frees an sga owned by the app. A buffer still being pushed is freed when
 * the push completes. EINVAL: already freed; EFAULT: not from the DMA heap. */
extern int demi_sgafree(demi_sgarray_t *sga);

/* Allocates a one-segment sga of len bytes from the DMA heap; on failure
 * sga_numsegs is 0. */
extern demi_sgarray_t demi_sgaalloc(size_t len);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_SGA_H_IS_INCLUDED */
