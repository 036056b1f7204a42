// The U-mode runtime: static constructors, console output, exit.
#include <stdarg.h>

#include "kernel/console/format.h"
#include "user/rt/syscall.h"

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

extern "C" void ringlet_run_init_array() {
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();
}

extern "C" [[noreturn]] void ringlet_exit(int64_t code) { ringlet::user::exit(code); }

namespace ringlet::user {

void print(const char* text, size_t length) {
    while (length > 0) {
        size_t chunk = length > 256 ? 256 : length;
        syscall(kSysDebugPrint, chunk, reinterpret_cast<uint64_t>(text));
        text += chunk;
        length -= chunk;
    }
}

void print(const char* text) { print(text, __builtin_strlen(text)); }

void printf(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_to(buf, sizeof buf, fmt, ap);
    va_end(ap);
    print(buf, n < sizeof buf ? n : sizeof buf - 1);
}

[[noreturn]] void exit(int64_t code) {
    syscall(kSysExit, static_cast<uint64_t>(code));
    for (;;) {
    }
}

}  // namespace ringlet::user
