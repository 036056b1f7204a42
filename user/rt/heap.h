// The app heap (user/rt/heap.cc) beyond operator new: an allocation that
// may fail, for callers that turn failure into an Error.
#pragma once

#include <stddef.h>

namespace ringlet::user {

// n bytes, 16-byte aligned, or nullptr when the heap is exhausted.
void* heap_try_allocate(size_t n);

}  // namespace ringlet::user
