/* Ringlet extensions to the PDPIX C API (not in Demikernel). */
#ifndef RINGLET_DEMI_H_IS_INCLUDED
#define RINGLET_DEMI_H_IS_INCLUDED

#ifdef __cplusplus
extern "C" {
#endif

/* Tears down what demi_init built (queues closed, operations cancelled,
 * memory returned) so demi_init may run again; ENOSYS if not initialised. */
int ringlet_demi_shutdown(void);

/* Instructions this core retired while the libOS slept in the OS (Ringlet's
 * wait syscall: kernel entry, idle, wake-up), so that a benchmark can count
 * only the libOS's own work. 0 where the count is not available (Linux). */
unsigned long long ringlet_demi_sleep_instructions(void);

#ifdef __cplusplus
}
#endif

#endif /* RINGLET_DEMI_H_IS_INCLUDED */
