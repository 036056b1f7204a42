// C library functions lwIP's sources call that the riscv64 ringlet_libc
// (kernel/lib/string.cc) does not provide. Built for riscv64 only; weak, so
// a later ringlet_libc version wins. lwIP needs atoi for netif_find().
#include <stddef.h>

extern "C" {

// Decimal with optional sign and leading blanks; no overflow handling
// (undefined in C as well). lwIP parses interface numbers with it.
__attribute__((weak)) int atoi(const char* s) {
    while (*s == ' ' || (*s >= '\t' && *s <= '\r')) ++s;
    bool negative = false;
    if (*s == '+' || *s == '-') negative = *s++ == '-';
    int v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    return negative ? -v : v;
}

}  // extern "C"
