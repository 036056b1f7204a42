#include "kernel/lib/boot_args.h"

namespace ringlet {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Calls fn(word, length) for each word until fn returns true.
template <typename Fn>
bool for_each_word(const char* text, Fn fn) {
    const char* p = text;
    while (*p) {
        while (*p && is_space(*p)) ++p;
        const char* start = p;
        while (*p && !is_space(*p)) ++p;
        if (p > start && fn(start, static_cast<size_t>(p - start))) return true;
    }
    return false;
}

bool equal(const char* a, size_t n, const char* b) {
    for (size_t i = 0; i < n; ++i)
        if (b[i] != a[i]) return false;  // also stops at b's NUL
    return b[n] == '\0';
}

}  // namespace

bool BootArgs::has(const char* flag) const {
    return for_each_word(m_text, [&](const char* w, size_t n) { return equal(w, n, flag); });
}

const char* BootArgs::value(const char* key, size_t* length) const {
    size_t key_len = 0;
    while (key[key_len]) ++key_len;
    const char* found = nullptr;
    size_t found_len = 0;
    for_each_word(m_text, [&](const char* w, size_t n) {
        if (n <= key_len || w[key_len] != '=' || !equal(w, key_len, key)) return false;
        found = w + key_len + 1;
        found_len = n - key_len - 1;
        return true;
    });
    if (length) *length = found_len;
    return found;
}

}  // namespace ringlet
