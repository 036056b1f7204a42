#include "arch/riscv64/sbi.h"

namespace ringlet::sbi {

SbiRet call(uint64_t ext, uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2) {
    register uint64_t r_a0 asm("a0") = a0;
    register uint64_t r_a1 asm("a1") = a1;
    register uint64_t r_a2 asm("a2") = a2;
    register uint64_t r_a6 asm("a6") = fid;
    register uint64_t r_a7 asm("a7") = ext;
    asm volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    return {static_cast<int64_t>(r_a0), static_cast<int64_t>(r_a1)};
}

void legacy_putchar(char c) {
    register uint64_t r_a0 asm("a0") = static_cast<uint8_t>(c);
    register uint64_t r_a7 asm("a7") = 0x01;
    asm volatile("ecall" : "+r"(r_a0) : "r"(r_a7) : "memory", "a1");
}

SbiRet set_timer(uint64_t stime_value) { return call(kExtTime, 0, stime_value); }
SbiRet send_ipi(uint64_t hart_mask, uint64_t base) { return call(kExtIpi, 0, hart_mask, base); }
SbiRet hart_start(uint64_t hart_id, uint64_t start_addr, uint64_t opaque) {
    return call(kExtHsm, 0, hart_id, start_addr, opaque);
}
SbiRet hart_get_status(uint64_t hart_id) { return call(kExtHsm, 2, hart_id); }
SbiRet system_reset(uint32_t reset_type, uint32_t reason) { return call(kExtSrst, 0, reset_type, reason); }
bool probe_extension(uint64_t ext) {
    SbiRet r = call(0x10, 3, ext);
    return r.error == 0 && r.value != 0;
}

}  // namespace ringlet::sbi
