// Writes an unmapped user page: must be killed with a store page fault.
#include "user/hostile/hostile.h"

int main(int, char**) {
    ringlet::user::print("hostile_write_unmapped: writing 0x7000000\n");
    *reinterpret_cast<volatile uint64_t*>(0x7000000) = 1;
    ringlet::user::print("hostile_write_unmapped: the kernel did not stop me\n");
    return 0;
}
