// The U-mode runtime: static constructors, console output, exit.
#include <stdarg.h>

#include "kernel/console/format.h"
#include "user/rt/syscall.h"
#include "user/rt/tls.h"

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

extern "C" int main(int argc, char** argv);

namespace ringlet::user {
namespace detail {
uint64_t g_timebase_hz;
uint64_t g_ns_per_tick;
}  // namespace detail
namespace {
thread_local uint64_t t_hart_index;     // .tbss: each core's own
thread_local uint64_t t_hart_features;  // HartFeature bits of that hart
constexpr uint64_t kTlsMagic = 0x52494e474c544c53ull;
uint64_t g_start_cap;
const StartCap* g_start_caps;
size_t g_start_cap_count;
constexpr int kMaxArgs = 16;
char* g_argv[kMaxArgs + 1];
}  // namespace

// .tdata: a core whose block lacks this value did not get the image copied.
// External linkage, so the compiler cannot fold the check away.
thread_local uint64_t t_tls_magic = kTlsMagic;

uint64_t hart_index() { return t_hart_index; }
void set_hart_index(uint64_t index) { t_hart_index = index; }
uint64_t hart_features() { return t_hart_features; }
void set_hart_features(uint64_t features) { t_hart_features = features; }

void check_tls() {
    if (t_tls_magic != kTlsMagic) {
        print("rt: thread-local block not initialised\n");
        exit(134);
    }
}
uint64_t start_cap() { return g_start_cap; }
const StartCap* start_caps() { return g_start_caps; }
size_t start_cap_count() { return g_start_cap_count; }

Result<CapIndex> find_start_cap(uint8_t type) {
    for (size_t i = 0; i < g_start_cap_count; ++i)
        if (g_start_caps[i].type == type) return g_start_caps[i].index;
    return Error::NotFound;
}

Result<CapIndex> find_start_cap(uint8_t type, uint32_t tag) {
    for (size_t i = 0; i < g_start_cap_count; ++i)
        if (g_start_caps[i].type == type && g_start_caps[i].tag == tag) return g_start_caps[i].index;
    return Error::NotFound;
}

CapIndex memory_cap() { return find_start_cap(kCapMemory).value_or(0); }

Result<CapIndex> start_app(const char* line, uint64_t hart, const StartGift* gifts, size_t count) {
    CapIndex image = TRY(find_start_cap(kCapImage));
    CapIndex hart_cap = TRY(find_start_cap(kCapHart, static_cast<uint32_t>(hart)));
    return as_result(syscall(kSysDispatcherStart, image, reinterpret_cast<uint64_t>(line), __builtin_strlen(line),
                             hart_cap, reinterpret_cast<uint64_t>(gifts), count));
}

}  // namespace ringlet::user

// Splits the kernel's argument string (in place, on our stack) into argv,
// runs static constructors and main, and exits with main's result.
extern "C" [[noreturn]] void ringlet_start(uint64_t hart_index, uint64_t timebase, char* args, uint64_t start_cap,
                                           const ringlet::StartCap* caps, uint64_t cap_count, uint64_t features) {
    using namespace ringlet::user;
    // This core's thread_local block, before anything (constructors included)
    // touches a thread_local variable.
    auto block = tls_block_create();
    if (!block) {
        print("rt: no memory for thread-local storage\n");
        exit(134);
    }
    tls_install(*block);
    check_tls();
    t_hart_index = hart_index;
    t_hart_features = features;
    detail::g_timebase_hz = timebase;
    detail::g_ns_per_tick = timebase != 0 && 1000000000ull % timebase == 0 ? 1000000000ull / timebase : 0;
    g_start_cap = start_cap;
    g_start_caps = caps;
    g_start_cap_count = cap_count <= ringlet::kMaxStartCaps ? cap_count : 0;
    int argc = 0;
    for (char* p = args; p && *p && argc < kMaxArgs;) {
        while (*p == ' ') *p++ = '\0';
        if (!*p) break;
        g_argv[argc++] = p;
        while (*p && *p != ' ') ++p;
    }
    g_argv[argc] = nullptr;
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();
    exit(main(argc, g_argv));
}

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
