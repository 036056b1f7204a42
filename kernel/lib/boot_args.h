// The kernel command line (/chosen bootargs): space-separated words, either
// flags ("shutdown") or key=value pairs ("init=hello").
#pragma once

#include <stddef.h>

namespace ringlet {

class BootArgs {
public:
    explicit BootArgs(const char* text) : m_text(text ? text : "") {}

    // True if `flag` appears as a whole word.
    bool has(const char* flag) const;

    // The value of `key=` as a pointer into the text and its length; nullptr
    // (and 0) when absent. The value ends at the next space.
    const char* value(const char* key, size_t* length) const;

private:
    const char* m_text;
};

}  // namespace ringlet
