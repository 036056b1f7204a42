// Shared by blkcheck's modes: small helpers over the PDPIX C API and its
// storage extension (libos/pdpix/ringlet_demi.h).
#pragma once

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <stdint.h>

#include "libos/pdpix/ringlet_demi.h"

namespace ringlet::blkcheck {

inline constexpr uint32_t kSector = RINGLET_DEMI_SECTOR_SIZE;

// Starts the libOS with `backend_flag` ("--backend=loopback": disk only;
// "--backend=lwip": with the network) and opens the storage queue: 0 and
// *qd, or 1 after a FAILED line.
int start(const char* backend_flag, int* qd);

// The errno's name ("EINVAL"), or "errno N" for one this app never expects.
const char* errno_name(int e);

// Waits (bounded: QEMU without KVM is slow, not that slow) for one
// operation; the operation's own result is in qr. 0, or the wait's errno.
int wait_one(demi_qtoken_t qt, demi_qresult_t* qr);

// 0 for a completed operation, else its errno (from qr_ret).
inline int op_errno(const demi_qresult_t& qr) {
    return qr.qr_opcode == DEMI_OPC_FAILED ? static_cast<int>(qr.qr_ret) : 0;
}

// Waits for the operation whose start returned `start_rc` and wrote *qt:
// 0, or the errno of whichever step failed (the start, the wait or the
// operation). A pointer, so the token is read after the start wrote it.
int finish(int start_rc, const demi_qtoken_t* qt, demi_qresult_t* qr);

bool parse_u64(const char* s, uint64_t* out);

// blkcheck serve:PORT (serve.cc): the network and the disk in one app.
int serve(uint64_t port);

// blkcheck faults[:SEED] (faults.cc): requests the host fails (blkdebug) on
// the storage queue `disk`: 0 when each failed with EIO and the rest held.
int faults(int disk);

// blkcheck cores[:SEED] (cores.cc): every core of the app writes and
// verifies its own region through its own storage queue; with rounds > 0
// (cores-bench[:N]) each then runs bench() on its region.
// With `reset` (cores-reset), a disk reset in the middle (cores.cc).
int cores(uint64_t seed, uint64_t rounds, bool reset = false);

// ROUNDS sequential 4 KiB write+read round trips at byte `offset` of
// `disk`: prints the guest instructions each took on this core (rdinstret,
// exact under QEMU -icount), sleeps excluded, as "blkcheck: WHO: ...".
int bench(int disk, uint64_t offset, uint64_t rounds, const char* who);

}  // namespace ringlet::blkcheck
