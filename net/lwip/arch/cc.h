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

/* Both targets are little-endian. With Zbb (and on the host) the compiler's
 * byte swaps are one instruction (rev8); without it GCC makes
 * __builtin_bswap32 a call to libgcc's __bswapsi2, so the 32-bit swap is
 * spelled out as shifts there (GCC cannot fold them back into a call: it only
 * does so where the CPU has a byte-swap instruction). */
#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#if defined(__riscv) && !defined(__riscv_zbb)
static inline uint32_t ringlet_lwip_bswap32(uint32_t x) {
    return (x << 24) | ((x & 0xff00u) << 8) | ((x >> 8) & 0xff00u) | (x >> 24);
}
#define lwip_htonl(x) ((u32_t)ringlet_lwip_bswap32((uint32_t)(x)))
#else
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))
#endif

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

/* LWIP_ASSERT checks lwIP's internal invariants on every packet. They stay on
 * where lwIP is tested (the host build) and are compiled out of the target
 * build (CMake option RINGLET_LWIP_ASSERTS, net/CMakeLists.txt, which defines
 * RINGLET_LWIP_ASSERTS to 0 or 1; on if unset). */
#if defined(RINGLET_LWIP_ASSERTS) && !RINGLET_LWIP_ASSERTS
#define LWIP_NOASSERT 1
#endif
#define LWIP_PLATFORM_ASSERT(x) ringlet_lwip_assert((x), __FILE__, __LINE__)
/* Only used with LWIP_DEBUG (off): the format arguments are dropped. */
#define LWIP_PLATFORM_DIAG(x) ringlet_lwip_diag("lwip diag")
#define LWIP_RAND() ringlet_lwip_rand()

#endif /* RINGLET_LWIP_ARCH_CC_H */
