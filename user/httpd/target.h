// From a request target to the path of a file in the content tree, refusing
// anything that could step outside it.
//
// Accepted forms (RFC 9112 3.2): origin-form "/a/b?q" and absolute-form
// "http://host/a/b?q" (its authority is ignored: one site). The query is
// dropped. Percent-escapes are decoded once; the result must be a plain
// absolute path. Refused with 400 (never resolved, so never a 404 that
// would tell what exists):
//   - any other form ("*", "host:port", "x/y", "https:" without "//")
//   - a malformed escape ("%", "%4", "%zz") or one decoding to NUL, '/',
//     '\\' or a control byte (encoded slashes are how "..%2f.." slips past
//     a path check)
//   - a "." or ".." segment, before or after decoding ("/../x", "/%2e%2e/x",
//     "/a/./b"), an empty segment ("//"), or a backslash.
// A path ending in "/" means its index.html.
#pragma once

#include <stddef.h>

#include "user/httpd/text.h"

namespace httpd {

constexpr size_t kMaxPath = 2048;

struct TargetResult {
    bool ok = false;
    size_t len = 0;  // bytes written to the output, when ok
};

// Writes the decoded path ("/index.html" for "/") to out[0, cap).
TargetResult resolve_target(Str target, char* out, size_t cap);

}  // namespace httpd
