#include "user/rt/tls.h"

#include <stdint.h>

#include "arch/riscv64/user_tls.h"
#include "user/rt/heap.h"

// The PT_TLS image's bounds (user.ld): [__tls_start, __tdata_end) holds the
// initial values, up to __tls_end is zero-initialised.
extern "C" char __tls_start[], __tdata_end[], __tls_end[];

namespace ringlet::user {
namespace {
// user.ld aligns the image to 64 bytes (a cache line) and a block must keep
// every variable at the same alignment as in the image.
constexpr size_t kTlsAlign = 64;
}  // namespace

size_t tls_block_bytes() { return static_cast<size_t>(__tls_end - __tls_start); }

Result<void*> tls_block_create() {
    const size_t bytes = tls_block_bytes();
    auto* raw = static_cast<unsigned char*>(heap_try_allocate(bytes + kTlsAlign));
    if (raw == nullptr) return Error::OutOfMemory;
    // Blocks live as long as the app (one per core it spans), never freed.
    auto* block = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(raw) + kTlsAlign - 1) & ~(kTlsAlign - 1));
    const size_t image = static_cast<size_t>(__tdata_end - __tls_start);
    __builtin_memcpy(block, __tls_start, image);
    __builtin_memset(block + image, 0, bytes - image);
    return static_cast<void*>(block);
}

void tls_install(void* block) { arch::set_thread_pointer(block); }

}  // namespace ringlet::user
