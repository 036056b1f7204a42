// operator new/delete for U-mode apps: power-of-two size classes carved from
// a fixed arena in .bss, each class with its own free list. Only control
// objects (queues, backends) come from here; I/O buffers come from the DMA
// heap and coroutine frames from the executor's pool. One heap per app,
// shared by the cores it spans: a spin lock guards it (any core may allocate
// or free; control plane only, never on a packet's path).
#include <stddef.h>
#include <stdint.h>

#include <new>

#include "user/rt/heap.h"
#include "user/rt/syscall.h"

namespace {

constexpr size_t kArenaBytes = 1u << 20;
constexpr size_t kMinShift = 4;   // 16 bytes
constexpr size_t kMaxShift = 16;  // 64 KiB
constexpr size_t kHeader = 16;    // keeps the payload 16-byte aligned

struct FreeBlock {
    FreeBlock* next;
};

alignas(16) unsigned char g_arena[kArenaBytes];
size_t g_used;                       // under g_lock
FreeBlock* g_free[kMaxShift + 1];    // under g_lock
uint32_t g_lock;  // 0 free, 1 held (a word: amoswap.w)

struct HeapGuard {
    HeapGuard() {
        while (__atomic_exchange_n(&g_lock, 1u, __ATOMIC_ACQUIRE)) {
        }
    }
    ~HeapGuard() { __atomic_store_n(&g_lock, 0u, __ATOMIC_RELEASE); }
};

size_t class_of(size_t n) {
    size_t shift = kMinShift;
    while ((size_t{1} << shift) < n + kHeader) ++shift;
    return shift;
}

void* allocate(size_t n) {
    size_t shift = class_of(n);
    if (shift > kMaxShift) return nullptr;
    HeapGuard guard;
    unsigned char* block;
    if (FreeBlock* f = g_free[shift]) {
        g_free[shift] = f->next;
        block = reinterpret_cast<unsigned char*>(f);
    } else {
        size_t size = size_t{1} << shift;
        if (kArenaBytes - g_used < size) return nullptr;
        block = g_arena + g_used;
        g_used += size;
    }
    *reinterpret_cast<size_t*>(block) = shift;
    return block + kHeader;
}

void release(void* p) {
    if (!p) return;
    unsigned char* block = static_cast<unsigned char*>(p) - kHeader;
    size_t shift = *reinterpret_cast<size_t*>(block);
    if (block < g_arena || block >= g_arena + kArenaBytes || shift < kMinShift || shift > kMaxShift) {
        ringlet::user::print("heap: delete of a pointer this heap never gave out\n");
        ringlet::user::exit(134);
    }
    auto* f = reinterpret_cast<FreeBlock*>(block);
    HeapGuard guard;
    f->next = g_free[shift];
    g_free[shift] = f;
}

void* allocate_or_die(size_t n) {
    void* p = allocate(n);
    if (!p) {
        ringlet::user::printf("heap: out of memory (%zu bytes)\n", n);
        ringlet::user::exit(134);
    }
    return p;
}

}  // namespace

void* ringlet::user::heap_try_allocate(size_t n) { return allocate(n); }

void* operator new(size_t n) { return allocate_or_die(n); }
void* operator new[](size_t n) { return allocate_or_die(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return allocate(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return allocate(n); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, size_t) noexcept { release(p); }
void operator delete[](void* p, size_t) noexcept { release(p); }

extern "C" void __cxa_pure_virtual() {
    ringlet::user::print("pure virtual function called\n");
    ringlet::user::exit(134);
}
