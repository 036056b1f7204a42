/* PDPIX types: layouts of Demikernel's C API (include/demi/types.h, late
 * 2024), so a Demikernel C app compiles against Ringlet unchanged. Structs are
 * packed as Demikernel packs them on Linux; sizes are checked in
 * tests/libos/pdpix/sizes_test.cc. */
#ifndef DEMI_TYPES_H_IS_INCLUDED
#define DEMI_TYPES_H_IS_INCLUDED

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Segments per scatter-gather array (Ringlet, like Demikernel, uses one). */
#define DEMI_SGARRAY_MAXSIZE 1

/* Names one asynchronous operation; consumed by the wait that returns it. */
typedef uint64_t demi_qtoken_t;

/* One contiguous piece of a scatter-gather array. */
typedef struct __attribute__((__packed__)) demi_sgaseg {
    void *sgaseg_buf;    /* data, inside the libOS's DMA heap */
    uint32_t sgaseg_len; /* bytes of data */
} demi_sgaseg_t;

/* A scatter-gather array: what push sends and pop returns. */
typedef struct __attribute__((__packed__)) demi_sgarray {
    void *sga_buf;                                /* reserved for the libOS */
    uint32_t sga_numsegs;                         /* segments in use */
    demi_sgaseg_t sga_segs[DEMI_SGARRAY_MAXSIZE]; /* the segments */
    struct sockaddr_in sga_addr;                  /* source address of a popped datagram */
} demi_sgarray_t;

/* What a completed operation was. */
typedef enum demi_opcode {
    DEMI_OPC_INVALID = 0,
    DEMI_OPC_PUSH,
    DEMI_OPC_POP,
    DEMI_OPC_ACCEPT,
    DEMI_OPC_CONNECT,
    DEMI_OPC_CLOSE,
    DEMI_OPC_FAILED,
} demi_opcode_t;

/* Result of an accept: the new queue and the peer's address. */
typedef struct __attribute__((__packed__)) demi_accept_result {
    int32_t qd;
    struct sockaddr_in addr;
} demi_accept_result_t;

/* Result of a completed operation, filled in by the demi_wait family. */
typedef struct __attribute__((__packed__)) demi_qresult {
    enum demi_opcode qr_opcode; /* DEMI_OPC_FAILED: qr_ret holds the errno */
    int32_t qr_qd;              /* queue the operation ran on */
    demi_qtoken_t qr_qt;        /* its token (now consumed) */
    int64_t qr_ret;             /* 0 or a positive errno */
    union {
        demi_sgarray_t sga;        /* push/pop */
        demi_accept_result_t ares; /* accept */
    } qr_value;
} demi_qresult_t;

/* Log callback (accepted for compatibility; Ringlet does not call it). */
typedef void (*demi_callback_t)(const char *, uint32_t, uint64_t);

/* Arguments to demi_init. Ringlet reads argv for "--backend=NAME". */
struct __attribute__((__packed__)) demi_args {
    int argc;
    char *const *argv;
    demi_callback_t callback;
};
typedef struct demi_args demi_args_t;

#ifdef __cplusplus
}
#endif

#endif /* DEMI_TYPES_H_IS_INCLUDED */
