// panic: a broken libOS invariant (memory corruption, a foreign pointer, a
// task that can never be resumed) ends the app with a line saying where and
// why, instead of a bare trap. Recoverable errors are Result values, never
// this; a device that misbehaves is bad input, never this.
#pragma once

namespace ringlet::rt {

// Prints "libos panic: <what>" (by convention "function: reason") on the
// console (Ringlet: debug_print; Linux: stderr) and ends the app with a
// trap, so the kernel's kill report (or the host's core dump) follows it.
[[noreturn]] void panic(const char* what);

}  // namespace ringlet::rt
