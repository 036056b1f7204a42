// The store's memory: malloc on Linux, an Arena over a static region on
// Ringlet (see arena.h). Failure is a value (nullptr): the command that
// needed the memory answers -OOM and the server goes on.
#pragma once

#include <stddef.h>

namespace kv {

void* mem_alloc(size_t n);
void mem_free(void* p);
size_t mem_in_use();  // bytes the store holds (INFO used_memory)

}  // namespace kv
