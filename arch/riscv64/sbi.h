// Supervisor Binary Interface calls (SBI spec v1.0): the kernel's only way to
// ask M-mode firmware (OpenSBI) for timers, IPIs, hart start and reset.
#pragma once

#include <stdint.h>

namespace ringlet::sbi {

struct SbiRet {
    int64_t error;  // 0 = SBI_SUCCESS, negative = SBI_ERR_*
    int64_t value;
};

SbiRet call(uint64_t ext, uint64_t fid, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0);

// Legacy console putchar (EID 0x01): works on every OpenSBI, before any
// driver exists; the console's fallback sink.
void legacy_putchar(char c);

// TIME extension: the next timer interrupt at absolute time `stime_value`.
SbiRet set_timer(uint64_t stime_value);
// IPI extension: a supervisor software interrupt on the harts in the mask.
SbiRet send_ipi(uint64_t hart_mask, uint64_t hart_mask_base);
// HSM extension: start `hart_id` at physical `start_addr` with a1 = `opaque`.
SbiRet hart_start(uint64_t hart_id, uint64_t start_addr, uint64_t opaque);
SbiRet hart_get_status(uint64_t hart_id);
// SRST extension: reset_type 0 = shutdown; reason 0 = none, 1 = system failure.
SbiRet system_reset(uint32_t reset_type, uint32_t reason);
// Base extension: is extension `ext` implemented?
bool probe_extension(uint64_t ext);

inline constexpr uint64_t kExtTime = 0x54494D45;
inline constexpr uint64_t kExtIpi = 0x735049;
inline constexpr uint64_t kExtHsm = 0x48534D;
inline constexpr uint64_t kExtSrst = 0x53525354;

}  // namespace ringlet::sbi
