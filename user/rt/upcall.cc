#include "user/rt/upcall.h"

#include "user/rt/heap.h"
#include "user/rt/syscall.h"

extern "C" void _upcall_start();  // crt0.S

namespace ringlet::user {
namespace {

// This core's (tp stays the interrupted code's across an upcall, so these
// are the right core's when the upcall runs).
thread_local UpcallService t_service = nullptr;
thread_local void* t_ctx = nullptr;
thread_local uint8_t* t_stack = nullptr;
thread_local uint64_t t_runs = 0;

}  // namespace

Result<void> arm_upcall(UpcallService service, void* ctx, const UpcallArea& area, uint64_t period_ticks) {
    if (t_stack == nullptr) {
        t_stack = static_cast<uint8_t*>(heap_try_allocate(kUpcallStackBytes));
        if (t_stack == nullptr) return Error::OutOfMemory;
    }
    t_service = service;
    t_ctx = ctx;
    TRY(as_result(syscall(kSysUpcall, kUpcallArm, reinterpret_cast<uint64_t>(&_upcall_start),
                          reinterpret_cast<uint64_t>(t_stack + kUpcallStackBytes), reinterpret_cast<uint64_t>(&area),
                          period_ticks)));
    return {};
}

void disarm_upcall() {
    (void)syscall(kSysUpcall, kUpcallDisarm);  // cannot fail: no argument to check
    t_service = nullptr;
}

uint64_t upcalls_run() { return t_runs; }

}  // namespace ringlet::user

// The kernel entered the upcall (crt0.S _upcall_start): the service, then
// the interrupted code resumes. The return never fails from inside an
// upcall; if it did, the app could not go on.
extern "C" [[noreturn]] void ringlet_upcall_main(uint64_t interrupted_pc) {
    using namespace ringlet::user;
    (void)interrupted_pc;
    ++t_runs;
    if (t_service != nullptr) t_service(t_ctx);
    (void)syscall(ringlet::kSysUpcall, ringlet::kUpcallReturn);
    exit(-1);
}
