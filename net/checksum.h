// The Internet checksum (RFC 1071) lwIP uses for every IPv4, ICMP, UDP and TCP
// sum it computes in software (LWIP_CHKSUM in net/lwip/lwipopts.h).
// Plain C declarations: lwipopts.h includes this from lwIP's C sources.
#ifndef RINGLET_NET_CHECKSUM_H
#define RINGLET_NET_CHECKSUM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one's-complement sum of len bytes at data (any alignment, any length),
 * not inverted, folded to 16 bits, in the byte order lwIP's own
 * lwip_standard_chksum returns: stored to memory as a native uint16_t it
 * reads as the sum in network order. The sum is taken as if data[0] were the
 * high byte of the first 16-bit word, whatever the address's parity; an odd
 * last byte is padded with a zero. 0 only for all-zero data; len <= 0 gives 0. */
uint16_t ringlet_chksum(const void* data, int len);

#ifdef __cplusplus
}

#include <stddef.h>

namespace ringlet::net {
// Whether ringlet_chksum, on this core, may sum with the vector unit (RVV
// 1.0): off until the core's start code says its hart has V
// (user::hart_features()); the vector loop exists in every riscv64 build and
// is chosen per call, the scalar loop everywhere else. Per core (thread-
// local): set by the core itself before its first sum, read by its own sums.
void set_vector_checksum(bool usable);
bool vector_checksum();
// ringlet_chksum's scalar algorithm (a 64-bit sum), in every build: what
// ringlet_chksum does without the vector unit, and the reference the guest
// self-test (user/vcheck) compares the vector sum with.
uint16_t chksum_scalar(const void* data, int len);
// The vector loop's algorithm with `lanes` 64-bit lanes (VLMAX of its
// e32/m4 loads: VLEN / 8), in portable C++, for the host test. 1..256
// lanes; anything else gives 0.
uint16_t chksum_lane_model(const void* data, int len, size_t lanes);
}  // namespace ringlet::net
#endif

#endif /* RINGLET_NET_CHECKSUM_H */
