// vcheck: the vector unit (RVV 1.0) from U-mode, for ctest's qemu.rvv_*
// (tests/qemu/rvv.cmake).
#pragma once

#include <stdint.h>

namespace ringlet::vcheck {

// Fills v0-v31, vl, vtype and vcsr with a pattern of `seed`, sleeps
// `rounds` times (other apps on the hart run meanwhile), checking all of
// them after each sleep. 0 if they were always intact.
int check_registers(uint64_t seed, uint64_t rounds);
// ringlet_chksum against the scalar algorithm over random data, every
// length 0..1600 at every start offset 0..7 and random long ones. 0 if
// they always agree.
int check_checksum();

}  // namespace ringlet::vcheck
