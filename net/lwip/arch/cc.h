/* lwIP's compiler/platform header for Ringlet (host and riscv64 freestanding).
 *
 * Written for Ringlet from lwIP's porting documentation (doc/sys_arch.txt,
 * src/include/lwip/arch.h); no code from any lwIP port is used.
 * Included by C (lwIP's sources) and C++ (net/), so plain C only. */
#ifndef RINGLET_LWIP_ARCH_CC_H
#define RINGLET_LWIP_ARCH_CC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t from the linux-gnu headers (host and cross) */

/* arch.h includes <unistd.h> when SSIZE_MAX is defined and typedefs ssize_t
 * to int when it is not: both are wrong freestanding, so say ssize_t exists
 * and that there is no unistd.h to pull in. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif
#define LWIP_NO_UNISTD_H 1

/* <ctype.h> from glibc calls __ctype_b_loc, which no freestanding build has;
 * lwIP then uses its own isdigit & co. */
#define LWIP_NO_CTYPE_H 1

/* Both targets are little-endian; the compiler's byte swaps are one
 * instruction (rev8 with Zbb) or a short sequence. */
#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#ifdef __cplusplus
extern "C" {
#endif

/* Report hooks implemented in net/lwip/sys_glue.cc. An lwIP assertion is
 * counted and reported, never fatal: the app keeps running (see the hook). */
void ringlet_lwip_assert(const char* message, const char* file, int line);
void ringlet_lwip_diag(const char* message);
uint32_t ringlet_lwip_rand(void);

#ifdef __cplusplus
}
#endif

#define LWIP_PLATFORM_ASSERT(x) ringlet_lwip_assert((x), __FILE__, __LINE__)
/* Only used with LWIP_DEBUG (off): the format arguments are dropped. */
#define LWIP_PLATFORM_DIAG(x) ringlet_lwip_diag("lwip diag")
#define LWIP_RAND() ringlet_lwip_rand()

#endif /* RINGLET_LWIP_ARCH_CC_H */
