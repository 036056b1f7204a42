// CSR access and the few privileged instructions the kernel needs. The only
// header with CSR names; kernel/ reaches them through kernel/arch.h.
#pragma once

#include <stdint.h>

#define RINGLET_CSR_READ(name)                                  \
    ({                                                          \
        uint64_t _v;                                            \
        asm volatile("csrr %0, " #name : "=r"(_v)::"memory");   \
        _v;                                                     \
    })
#define RINGLET_CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" ::"rK"((uint64_t)(v)) : "memory")
#define RINGLET_CSR_SET(name, v) asm volatile("csrs " #name ", %0" ::"rK"((uint64_t)(v)) : "memory")
#define RINGLET_CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" ::"rK"((uint64_t)(v)) : "memory")

namespace ringlet::riscv {

inline constexpr uint64_t kSstatusSie = 1ull << 1;
inline constexpr uint64_t kSstatusSpie = 1ull << 5;
inline constexpr uint64_t kSstatusSpp = 1ull << 8;
inline constexpr uint64_t kSstatusSum = 1ull << 18;

inline constexpr uint64_t kSieSsie = 1ull << 1;
inline constexpr uint64_t kSieStie = 1ull << 5;
inline constexpr uint64_t kSieSeie = 1ull << 9;

inline constexpr uint64_t kCauseInterrupt = 1ull << 63;
inline constexpr uint64_t kIrqSoftware = 1;
inline constexpr uint64_t kIrqTimer = 5;
inline constexpr uint64_t kIrqExternal = 9;

inline constexpr uint64_t kSatpModeSv39 = 8ull << 60;

inline void sfence_vma_all() { asm volatile("sfence.vma zero, zero" ::: "memory"); }
inline void wfi() { asm volatile("wfi" ::: "memory"); }
inline uint64_t read_time() {
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

}  // namespace ringlet::riscv
