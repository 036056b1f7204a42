/* A real static riscv64 U-mode program for the loader tests: text (RX),
 * initialised data (RW) and bss, built with -nostdlib -static. It is only
 * parsed, never run. */
int counter = 5;
static long scratch[512];

void _start(void) {
    for (;;) {
        scratch[counter & 511] += counter;
        ++counter;
        __asm__ volatile("ecall");
    }
}
