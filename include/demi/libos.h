/* PDPIX queue API (Demikernel's include/demi/libos.h). Every function returns
 * 0 or a positive errno; an operation that starts asynchronously writes a
 * qtoken to be consumed by exactly one wait (demi/wait.h).
 *
 * Ringlet errnos: EBADF unknown or closed qd; EINVAL bad argument or a freed
 * sga; EFAULT a buffer not from the DMA heap; ENOTSUP an operation the
 * backend lacks; EEXIST demi_init twice; ENOSYS before demi_init. */
#ifndef DEMI_LIBOS_H_IS_INCLUDED
#define DEMI_LIBOS_H_IS_INCLUDED

#include <demi/types.h>
#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts the libOS; the backend is argv's "--backend=NAME", else the
 * RINGLET_BACKEND environment variable, else "linux" on the host. */
extern int demi_init(const struct demi_args *args);

/* Creates a named in-memory queue (loopback backend). */
extern int demi_create_pipe(int *memqd_out, const char *name);

/* Opens a named in-memory queue made by demi_create_pipe. */
extern int demi_open_pipe(int *memqd_out, const char *name);

/* Creates a socket queue (AF_INET; SOCK_DGRAM or SOCK_STREAM). */
extern int demi_socket(int *sockqd_out, int domain, int type, int protocol);

/* Makes a bound stream socket accept connections. */
extern int demi_listen(int sockqd, int backlog);

/* Binds a socket queue to a local IPv4 address. */
extern int demi_bind(int sockqd, const struct sockaddr *addr, socklen_t size);

/* Starts accepting one connection; the result carries the new qd. */
extern int demi_accept(demi_qtoken_t *qt_out, int sockqd);

/* Starts connecting a stream socket to addr. */
extern int demi_connect(demi_qtoken_t *qt_out, int sockqd, const struct sockaddr *addr, socklen_t size);

/* Closes a queue; its pending operations complete with ECANCELED. */
extern int demi_close(int qd);

/* Starts sending sga; the libOS holds the buffer until the device is done. */
extern int demi_push(demi_qtoken_t *qt_out, int qd, const demi_sgarray_t *sga);

/* Starts sending sga as one datagram to dest_addr. */
extern int demi_pushto(demi_qtoken_t *qt_out, int sockqd, const demi_sgarray_t *sga,
                       const struct sockaddr *dest_addr, socklen_t size);

/* Starts receiving; the result's sga belongs to the app (free it). A zero
 * length segment means the peer closed. */
extern int demi_pop(demi_qtoken_t *qt_out, int qd);

/* setsockopt(2) on the queue's socket (Linux backend). */
extern int demi_setsockopt(int qd, int level, int optname, const void *optval, socklen_t optlen);

/* getsockopt(2) on the queue's socket (Linux backend). */
extern int demi_getsockopt(int qd, int level, int optname, void *optval, socklen_t *optlen);

/* The address of the peer connected to qd. */
extern int demi_getpeername(int qd, struct sockaddr *addr, socklen_t *addrlen);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_LIBOS_H_IS_INCLUDED */
