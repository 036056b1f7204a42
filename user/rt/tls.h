// Per-core thread-local storage for U-mode apps. Every dispatcher of an app
// (one per hart it runs on) gets its own copy of the app's `thread_local`
// variables, addressed through tp: that is how the libOS finds its per-core
// executor, heap and queues with no lock and no shared global.
#pragma once

#include <stddef.h>

#include "ringlet/result.h"

namespace ringlet::user {

// The bytes one core's block needs (the PT_TLS image, .tdata then .tbss).
size_t tls_block_bytes();
// A fresh block for another core: the initial .tdata values, .tbss zeroed.
// From the app heap; OutOfMemory if it is exhausted.
Result<void*> tls_block_create();
// Makes `block` this core's thread-local storage (sets tp).
void tls_install(void* block);

}  // namespace ringlet::user
