// Reads kernel memory from U-mode: must be killed with a load page fault.
#include "user/hostile/hostile.h"

int main(int, char**) {
    ringlet::user::print("hostile_read_kernel: reading kernel memory\n");
    uint64_t v = *reinterpret_cast<volatile uint64_t*>(hostile::kKernelData);
    ringlet::user::printf("hostile_read_kernel: read %lx: the kernel did not stop me\n", v);
    return 0;
}
