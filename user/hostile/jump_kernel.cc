// Jumps into kernel text: must be killed with an instruction page fault.
#include "user/hostile/hostile.h"

int main(int, char**) {
    ringlet::user::print("hostile_jump_kernel: jumping into kernel text\n");
    reinterpret_cast<void (*)()>(hostile::kKernelText)();
    ringlet::user::print("hostile_jump_kernel: the kernel did not stop me\n");
    return 0;
}
