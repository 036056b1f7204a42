// Console lines for kv (stderr on Linux, the kernel console on Ringlet),
// built without printf: a line is assembled from pieces and written once.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "user/kv/bytes.h"

namespace kv {

class Line {
public:
    Line& operator<<(const char* s) {
        const size_t n = strlen(s);
        if (m_n + n < sizeof m_buf) {
            memcpy(m_buf + m_n, s, n);
            m_n += n;
        }
        return *this;
    }
    Line& operator<<(uint64_t v) {
        if (m_n + 24 < sizeof m_buf) m_n += format_u64(v, m_buf + m_n);
        return *this;
    }
    Line& operator<<(int64_t v) {
        if (m_n + 24 < sizeof m_buf) m_n += format_i64(v, m_buf + m_n);
        return *this;
    }
    Line& operator<<(int v) { return *this << static_cast<int64_t>(v); }
    Line& operator<<(unsigned v) { return *this << static_cast<uint64_t>(v); }
    // Writes the line (a newline is added).
    ~Line() {
        m_buf[m_n++] = '\n';
        (void)!::write(2, m_buf, m_n);
    }

private:
    char m_buf[256];
    size_t m_n = 0;
};

}  // namespace kv
