#include "user/httpd/clock.h"

#if defined(RINGLET_HTTPD_ON_RINGLET)
#include "user/rt/syscall.h"
#else
#include <time.h>
#endif

namespace httpd {

uint64_t now_ms() {
#if defined(RINGLET_HTTPD_ON_RINGLET)
    const uint64_t hz = ringlet::user::timebase_hz();
    return hz == 0 ? 0 : ringlet::user::now() / (hz / 1000 == 0 ? 1 : hz / 1000);
#else
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
#endif
}

}  // namespace httpd
