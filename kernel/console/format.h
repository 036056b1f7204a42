// printf-style formatting into a caller's buffer, for the kernel console.
// Supports %d %i %u %x %X %p %s %c %% with flags '-' and '0', a width (digits
// or '*'), a precision for strings (%.5s, %.*s: at most that many bytes, so
// unterminated buffers print safely), and the length modifiers h, hh, l, ll,
// z. Needs no libc.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace ringlet {

// Formats like vsnprintf: writes at most cap-1 characters plus a NUL (when
// cap > 0) and returns the length the full output would have had. An unknown
// conversion is copied through verbatim.
size_t format_to(char* buf, size_t cap, const char* fmt, va_list ap);

size_t format(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace ringlet
