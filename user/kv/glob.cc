#include "user/kv/glob.h"

namespace kv {

namespace {

// Matches the set starting after '[' at pattern[*pi]; advances *pi past ']'.
bool match_set(const uint8_t* p, size_t pn, size_t* pi, uint8_t c) {
    size_t i = *pi;
    bool negate = false;
    if (i < pn && p[i] == '^') {
        negate = true;
        ++i;
    }
    bool hit = false;
    while (i < pn && p[i] != ']') {
        if (p[i] == '\\' && i + 1 < pn) {
            ++i;
            if (p[i] == c) hit = true;
        } else if (i + 2 < pn && p[i + 1] == '-' && p[i + 2] != ']') {
            uint8_t lo = p[i], hi = p[i + 2];
            if (lo > hi) {
                const uint8_t t = lo;
                lo = hi;
                hi = t;
            }
            if (c >= lo && c <= hi) hit = true;
            i += 2;
        } else if (p[i] == c) {
            hit = true;
        }
        ++i;
    }
    *pi = i < pn ? i + 1 : i;  // an unclosed set ends the pattern
    return hit != negate;
}

}  // namespace

bool glob_match(Slice pattern, Slice subject) {
    const uint8_t* p = pattern.p;
    const uint8_t* s = subject.p;
    const size_t pn = pattern.n, sn = subject.n;
    size_t pi = 0, si = 0;
    // Backtracking point for the last '*': iterative, so hostile patterns
    // ("*a*a*a*...") cost O(pattern * subject), never exponential time.
    size_t star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            const uint8_t c = p[pi];
            if (c == '*') {
                while (pi < pn && p[pi] == '*') ++pi;
                if (pi == pn) return true;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                ++pi;
                ++si;
                continue;
            }
            if (c == '[') {
                size_t next = pi + 1;
                if (match_set(p, pn, &next, s[si])) {
                    pi = next;
                    ++si;
                    continue;
                }
            } else {
                size_t lit = pi;
                if (c == '\\' && pi + 1 < pn) lit = pi + 1;
                if (p[lit] == s[si]) {
                    pi = lit + 1;
                    ++si;
                    continue;
                }
            }
        }
        if (star_p == SIZE_MAX) return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '*') ++pi;
    return pi == pn;
}

}  // namespace kv
