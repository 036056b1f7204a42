/* PDPIX waits (Demikernel's include/demi/wait.h, plus demi_wait_all). A NULL
 * timeout waits forever; expiry returns ETIMEDOUT and leaves the tokens
 * valid. A token is consumed by the wait that returns its result: waiting on
 * it again gives ESTALE; a malformed token EINVAL; a token already being
 * waited on (or listed twice) EALREADY. */
#ifndef DEMI_WAIT_H_IS_INCLUDED
#define DEMI_WAIT_H_IS_INCLUDED

#include <demi/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Waits for the operation qt and returns its result. */
extern int demi_wait(demi_qresult_t *qr_out, demi_qtoken_t qt, const struct timespec *timeout);

/* Waits for the first of qts to complete; *ready_offset is its index. */
extern int demi_wait_any(demi_qresult_t *qr_out, int *ready_offset, const demi_qtoken_t qts[], int num_qts,
                         const struct timespec *timeout);

/* Waits for up to num_qrs completed operations of any pending token (at
 * least one); *num_qrs_out says how many were written. */
extern int demi_wait_next_n(demi_qresult_t *qr_out, int num_qrs, int *num_qrs_out,
                            const struct timespec *timeout);

/* Waits until every one of qts completed; qr_out[i] is the result of qts[i].
 * On timeout no token is consumed. */
extern int demi_wait_all(demi_qresult_t *qr_out, const demi_qtoken_t qts[], int num_qts,
                         const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_WAIT_H_IS_INCLUDED */
