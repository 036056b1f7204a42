// Calls ReadySet::first_from ITER times with N ready slots (argv[1]); run
// under callgrind and divide the instruction count of pick() by ITER.
#include <cstdio>
#include <cstdlib>

#include "libos/rt/ready_set.h"

using ringlet::rt::ReadySet;

__attribute__((noinline)) int32_t pick(const ReadySet& s, uint32_t cursor) { return s.first_from(cursor); }

int main(int argc, char** argv) {
    const uint32_t n = argc > 1 ? static_cast<uint32_t>(atoi(argv[1])) : 64;
    constexpr uint32_t kIter = 1'000'000;
    static ReadySet s;
    const uint32_t stride = ReadySet::kCapacity / (n == 0 ? 1 : n);
    for (uint32_t i = 0; i < n; ++i) s.set(i * stride);
    uint32_t cursor = 0;
    uint64_t sum = 0;
    for (uint32_t k = 0; k < kIter; ++k) {
        const int32_t i = pick(s, cursor);
        sum += static_cast<uint32_t>(i);
        cursor = static_cast<uint32_t>(i) + 1;
    }
    printf("%llu\n", static_cast<unsigned long long>(sum));
    return 0;
}
