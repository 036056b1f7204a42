// A monotonic millisecond clock for httpd's timeouts: rdtime on Ringlet,
// CLOCK_MONOTONIC elsewhere. (PDPIX has timed waits but no clock; the
// waits themselves take their deadlines from the libOS's timers.)
#pragma once

#include <stdint.h>

namespace httpd {

uint64_t now_ms();

}  // namespace httpd
