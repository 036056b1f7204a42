// Executes a privileged instruction: must be killed (illegal instruction).
#include "user/hostile/hostile.h"

int main(int, char**) {
    ringlet::user::print("hostile_illegal: writing satp from U-mode\n");
    asm volatile("csrw satp, zero");
    ringlet::user::print("hostile_illegal: the kernel did not stop me\n");
    return 0;
}
