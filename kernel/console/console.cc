#include "kernel/console/console.h"

#include <new>

#include "kernel/arch.h"
#include "kernel/console/format.h"
#include "kernel/fdt/boot_info.h"
#include "kernel/lib/spin_lock.h"
#include "kernel/smp/hart_local.h"

namespace ringlet {
namespace {

constexpr size_t kLineMax = 256;

struct LineBuffer {
    char text[kLineMax];
    size_t len = 0;
};

// Shared by all harts; g_lock serializes output of whole lines. The UART is
// set once by the boot hart before any other hart runs.
SpinLock g_lock;
Uart* g_uart = nullptr;
alignas(Uart) unsigned char g_uart_storage[sizeof(Uart)];
// One line buffer per hart index; each is touched only by its own hart.
LineBuffer g_lines[BootInfo::kMaxHarts];

void emit_locked(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '\n') {
            if (g_uart) g_uart->put('\r');
            else arch::early_putchar('\r');
        }
        if (g_uart) g_uart->put(s[i]);
        else arch::early_putchar(s[i]);
    }
}

void flush_line(LineBuffer& line) {
    if (line.len == 0) return;
    SpinGuard guard(g_lock);
    emit_locked(line.text, line.len);
    line.len = 0;
}

}  // namespace

void console_use_uart(const Uart& uart) {
    SpinGuard guard(g_lock);
    g_uart = new (g_uart_storage) Uart(uart);
}

void kvprintf(const char* fmt, va_list ap) {
    char text[kLineMax];
    size_t n = format_to(text, sizeof text, fmt, ap);
    if (n >= sizeof text) n = sizeof text - 1;  // an over-long message is cut, not lost whole
    LineBuffer& line = g_lines[current_hart_index()];
    for (size_t i = 0; i < n; ++i) {
        line.text[line.len++] = text[i];
        if (text[i] == '\n' || line.len == kLineMax) flush_line(line);
    }
}

void kprintf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void console_flush() { flush_line(g_lines[current_hart_index()]); }

void console_force_unlock() { g_lock.unlock(); }

}  // namespace ringlet
