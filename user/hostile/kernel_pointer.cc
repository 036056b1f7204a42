// Hands the kernel a kernel pointer (and other bad arguments): each call must
// be refused with an error, and the app goes on.
#include "user/hostile/hostile.h"

using namespace ringlet;

int main(int, char**) {
    auto r = user::syscall(kSysDebugPrint, 16, hostile::kKernelData);
    user::printf("hostile_kernel_pointer: print(kernel ptr) -> error %lu (%s)\n", r.error,
                 r.error == static_cast<uint64_t>(Error::BadAddress) ? "BadAddress" : "WRONG");
    r = user::syscall(kSysDebugPrint, 8, 0x7000000);
    user::printf("hostile_kernel_pointer: print(unmapped ptr) -> %s\n",
                 r.error == static_cast<uint64_t>(Error::BadAddress) ? "BadAddress" : "WRONG");
    r = user::syscall(kSysDebugPrint, 1u << 20, 0x10000);
    user::printf("hostile_kernel_pointer: print(1 MiB) -> %s\n",
                 r.error == static_cast<uint64_t>(Error::InvalidArgument) ? "InvalidArgument" : "WRONG");
    r = user::syscall(9999);
    user::printf("hostile_kernel_pointer: syscall 9999 -> %s\n",
                 r.error == static_cast<uint64_t>(Error::Unsupported) ? "Unsupported" : "WRONG");
    r = user::syscall(kSysWait, 0, 0);
    user::printf("hostile_kernel_pointer: wait(nothing, forever) -> %s\n",
                 r.error == static_cast<uint64_t>(Error::InvalidArgument) ? "InvalidArgument" : "WRONG");
    return 7;
}
