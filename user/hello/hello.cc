// The smallest Ringlet app: one line from U-mode, then exit 0.
#include "user/rt/syscall.h"

int main(uint64_t hart_index) {
    ringlet::user::printf("hello from U-mode on hart index %lu\n", hart_index);
    return 0;
}
