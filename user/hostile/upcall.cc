// Upcalls an app sets up badly (include/ringlet/syscall_abi.h kSysUpcall):
// the kernel must end only this app, or simply stop delivering, and go on.
//   hostile_upcall bad_entry    its upcall entry is not mapped: killed by an
//                               instruction page fault at that address
//   hostile_upcall bad_stack    its upcall stack is not mapped: killed by a
//                               store page fault just below the stack top
//   hostile_upcall lost_area    its UpcallArea is unmapped after arming:
//                               the kernel stops looking (no upcall, no
//                               fault of the app's), and the app exits 0
#include <string.h>

#include "ringlet/cap_types.h"
#include "user/hostile/hostile.h"

using namespace ringlet;

namespace {

constexpr uint64_t kUnmapped = 0x07000000;  // nothing is mapped there
constexpr uint64_t kAreaVa = 0x20000000;
alignas(16) uint8_t g_stack[8192];
UpcallArea g_area{};
volatile uint64_t g_upcalls = 0;

extern "C" void hostile_upcall_entry() {
    volatile uint64_t on_stack[2];  // the upcall's stack is used (bad_stack: faults here)
    on_stack[0] = g_upcalls;
    g_upcalls = on_stack[0] + 1;
    (void)user::syscall(kSysUpcall, kUpcallReturn);
}

uint64_t arm(uint64_t entry, uint64_t stack_top, uint64_t area) {
    return user::syscall(kSysUpcall, kUpcallArm, entry, stack_top, area, user::timebase_hz() / 1000).error;
}

void spin_ms(uint64_t ms) {
    const uint64_t end = user::now() + ms * (user::timebase_hz() / 1000);
    while (user::now() < end) {
    }
}

}  // namespace

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "";
    const uint64_t stack_top = reinterpret_cast<uint64_t>(g_stack + sizeof g_stack);
    const uint64_t entry = reinterpret_cast<uint64_t>(&hostile_upcall_entry);
    if (strcmp(mode, "bad_entry") == 0 || strcmp(mode, "bad_stack") == 0) {
        const bool bad_entry = mode[4] == 'e';
        if (uint64_t e = arm(bad_entry ? kUnmapped : entry, bad_entry ? stack_top : kUnmapped + 0x10000,
                             reinterpret_cast<uint64_t>(&g_area));
            e != 0) {
            user::printf("hostile_upcall: arm refused (%lu)\n", e);
            return 1;
        }
        user::printf("hostile_upcall: %s armed; spinning\n", mode);
        spin_ms(1000);
        user::print("hostile_upcall: the kernel did not stop me\n");
        return 0;
    }
    if (strcmp(mode, "lost_area") == 0) {
        auto frame = user::frame_alloc(1);
        auto mapped = user::syscall(kSysFrameMap, frame.value, kAreaVa, kUserMapRead | kUserMapWrite);
        if (frame.error || mapped.error || arm(entry, stack_top, kAreaVa) != 0) {
            user::print("hostile_upcall: setup failed\n");
            return 1;
        }
        spin_ms(20);  // upcalls come: the area is idle
        const uint64_t seen = g_upcalls;
        (void)user::syscall(kSysFrameUnmap, frame.value, kAreaVa);
        spin_ms(1);  // at most one look in flight
        const uint64_t after_unmap = g_upcalls;
        spin_ms(20);
        user::printf("hostile_upcall: lost_area: %s upcalls before the unmap, %s after\n",
                     seen > 0 ? "some" : "no", g_upcalls == after_unmap ? "none" : "SOME");
        return seen > 0 && g_upcalls == after_unmap ? 0 : 1;
    }
    user::print("hostile_upcall: usage: hostile_upcall bad_entry|bad_stack|lost_area\n");
    return 2;
}
