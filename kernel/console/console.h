// The kernel console: kprintf from any hart, at any time from the first
// instruction of kernel_boot on. Output goes to the SBI legacy console until
// console_use_uart() switches it to the FDT's UART. Each hart collects a line
// in its own buffer and writes it whole, so lines from different harts never
// interleave.
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "kernel/console/uart.h"

namespace ringlet {

void console_use_uart(const Uart& uart);

void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list ap);

// Writes what this hart has buffered (a partial line) now; panic uses it.
void console_flush();

// For panic: take the console even if another hart died holding its lock.
void console_force_unlock();

}  // namespace ringlet
