// syscheck's shared pieces: one line per check, a count of failures.
#pragma once

#include <stdint.h>

#include "ringlet/result.h"
#include "user/rt/syscall.h"

namespace ringlet::syscheck {

// Prints "syscheck: <what>: ok|FAILED" and counts a failure.
void check(bool ok, const char* what);
int failed();

inline bool is(const user::SyscallResult& r, Error e) { return r.error == static_cast<uint64_t>(e); }

// The refusals of every call made without the capability that names its
// authority (memory, devices, harts, app images), and memory budgets that
// never grow on the way down (authority.cc).
void check_authority();

}  // namespace ringlet::syscheck
