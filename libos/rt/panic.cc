#include "libos/rt/panic.h"

#if __STDC_HOSTED__ && !defined(RINGLET_FREESTANDING)
#include <stdio.h>
#include <stdlib.h>
#else
#include <stddef.h>

#include "arch/riscv64/user_syscall.h"
#include "ringlet/syscall_abi.h"
#endif

namespace ringlet::rt {
namespace {

#if __STDC_HOSTED__ && !defined(RINGLET_FREESTANDING)
void write_console(const char* text) { fputs(text, stderr); }
#else
// The raw call, not user/rt's print: the runtime library links the libOS,
// not the other way round, and a panic must need nothing that could be broken.
void write_console(const char* text) {
    size_t len = 0;
    while (text[len]) ++len;
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done < 256 ? len - done : 256;  // debug_print's limit
        auto r = arch::user_syscall(kSysDebugPrint, chunk, reinterpret_cast<uint64_t>(text + done));
        if (r.error) return;
        done += chunk;
    }
}
#endif

}  // namespace

void panic(const char* what) {
    write_console("libos panic: ");
    write_console(what);
    write_console("\n");
    __builtin_trap();
}

}  // namespace ringlet::rt
