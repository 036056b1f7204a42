// libFuzzer target: arbitrary bytes as a connection's input, split into pops
// at places chosen by the input itself. Every request the parser accepts is
// run through the command table against a store, so the commands see
// whatever a hostile client can send. Checks: the parser's invariants
// (consumed within the input, arguments inside it) and no sanitizer report.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string>

#include "user/kv/commands.h"
#include "user/kv/resp.h"
#include "user/kv/store.h"

namespace {

class NullReply final : public kv::Reply {
public:
    void write(const void* p, size_t n) override {
        // Touch the bytes so a reply built from freed memory is caught.
        const auto* b = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; ++i) sum += b[i];
    }
    unsigned sum = 0;
};

kv::Request g_request;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const size_t limit = 256 + data[0] * 16u;  // the per-connection cap varies too
    data += 1;
    size -= 1;
    kv::Store store;
    kv::Stats stats;
    NullReply out;
    std::string buffered;
    size_t fed = 0;
    while (fed < size) {
        // Feed in pieces: the length of each piece comes from the input.
        const size_t piece = 1 + data[fed] % 64;
        const size_t n = piece < size - fed ? piece : size - fed;
        buffered.append(reinterpret_cast<const char*>(data + fed), n);
        fed += n;
        for (;;) {
            const auto* p = reinterpret_cast<const uint8_t*>(buffered.data());
            const kv::ParseResult r = kv::parse_request(p, buffered.size(), limit, g_request);
            if (r.status == kv::ParseStatus::NeedMore) break;
            if (r.status == kv::ParseStatus::Error) return 0;  // the server closes the connection
            if (r.consumed == 0 || r.consumed > buffered.size()) abort();
            for (size_t i = 0; i < g_request.argc; ++i) {
                const kv::Slice& a = g_request.argv[i];
                if (a.n != 0 && (a.p < p || a.p + a.n > p + r.consumed)) abort();
            }
            if (g_request.argc != 0) {
                kv::Context ctx{store, stats, nullptr};
                kv::execute(ctx, g_request, out);
            }
            buffered.erase(0, r.consumed);
        }
    }
    return 0;
}
