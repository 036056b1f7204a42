// Allocates frames until the kernel says no: it must answer OutOfMemory (the
// budget of its memory cap or the machine's memory), never crash, and keep
// serving others.
#include "user/hostile/hostile.h"

using namespace ringlet;

int main(int, char**) {
    uint64_t pages = 0;
    for (;;) {
        auto r = user::frame_alloc(256);
        if (r.error) {
            user::printf("hostile_frame_hog: refused after %lu pages: %s\n", pages,
                         r.error == static_cast<uint64_t>(Error::OutOfMemory) ? "OutOfMemory" : "other error");
            return 0;
        }
        pages += 256;
    }
}
