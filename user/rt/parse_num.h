// Command-line numbers for the apps (header only: the portable apps include
// it on the host too, where user/rt is not linked).
#pragma once

namespace ringlet::user {

// Parses a whole decimal string of at most 0xffffffff; false on anything
// else (empty, a sign, other characters, too large).
inline bool parse_num(const char* s, unsigned long* out) {
    if (s == nullptr || *s == '\0') return false;
    unsigned long v = 0;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + static_cast<unsigned long>(*s - '0');
        if (v > 0xffffffffUL) return false;
    }
    *out = v;
    return true;
}

}  // namespace ringlet::user
