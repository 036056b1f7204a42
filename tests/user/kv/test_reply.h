// Helpers for kv's unit tests: a Reply that collects bytes, and requests
// built from words.
#pragma once

#include <string>
#include <vector>

#include "user/kv/reply.h"
#include "user/kv/resp.h"

namespace kv::test {

class StringReply final : public Reply {
public:
    void write(const void* p, size_t n) override { text.append(static_cast<const char*>(p), n); }
    std::string take() {
        std::string t;
        t.swap(text);
        return t;
    }
    std::string text;
};

// A request whose arguments point into `words` (keep it alive).
inline Request& make_request(const std::vector<std::string>& words) {
    static Request r;
    r.argc = 0;
    for (const std::string& w : words) {
        r.argv[r.argc++] = Slice(reinterpret_cast<const uint8_t*>(w.data()), w.size());
    }
    return r;
}

}  // namespace kv::test
