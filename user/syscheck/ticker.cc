// A well-behaved app: five ticks 20 ms apart, sleeping in wait() between
// them, then exit 0. Used to show progress beside hostile apps.
#include "user/rt/syscall.h"

using namespace ringlet;

int main(int, char**) {
    const uint64_t hart_index = user::hart_index();
    const uint64_t step = user::timebase_hz() / 50;  // 20 ms
    for (int i = 1; i <= 5; ++i) {
        uint64_t deadline = user::now() + step;
        auto r = user::syscall(kSysWait, 0, deadline);
        if (r.error != 0 || user::now() < deadline) {
            user::printf("ticker: wait failed (error %lu)\n", r.error);
            return 1;
        }
        user::printf("ticker: tick %d on hart index %lu\n", i, hart_index);
    }
    user::print("ticker: done\n");
    return 0;
}
