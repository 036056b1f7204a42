/* Ringlet extensions to the PDPIX C API (not in Demikernel). */
#ifndef RINGLET_DEMI_H_IS_INCLUDED
#define RINGLET_DEMI_H_IS_INCLUDED

#ifdef __cplusplus
extern "C" {
#endif

/* Tears down what demi_init built (queues closed, operations cancelled,
 * memory returned) so demi_init may run again; ENOSYS if not initialised. */
int ringlet_demi_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* RINGLET_DEMI_H_IS_INCLUDED */
