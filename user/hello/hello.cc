// The smallest Ringlet app: a line from U-mode (and one per argument), then exit 0.
#include "user/rt/syscall.h"

int main(int argc, char** argv) {
    ringlet::user::printf("hello from U-mode on hart index %lu\n", ringlet::user::hart_index());
    for (int i = 1; i < argc; ++i) ringlet::user::printf("hello: argument %d: %s\n", i, argv[i]);
    return 0;
}
