// A well-behaved app: ticks 20 ms apart (5, or the count given as its first
// argument), sleeping in wait() between them, then exit 0. Used to show
// progress beside hostile apps.
#include "user/rt/syscall.h"

using namespace ringlet;

int main(int argc, char** argv) {
    const uint64_t hart_index = user::hart_index();
    const uint64_t step = user::timebase_hz() / 50;  // 20 ms
    int ticks = 5;
    if (argc > 1) {
        ticks = 0;
        for (const char* p = argv[1]; *p >= '0' && *p <= '9'; ++p) ticks = ticks * 10 + (*p - '0');
    }
    for (int i = 1; i <= ticks; ++i) {
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
