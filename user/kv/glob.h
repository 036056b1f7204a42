// Glob patterns as KEYS and SCAN MATCH take them: `*` any run of bytes, `?`
// one byte, `[abc]`, `[a-z]`, `[^x]` a set (also negated), `\x` a literal x.
// Bytes, not characters: keys are binary.
#pragma once

#include "user/kv/bytes.h"

namespace kv {

bool glob_match(Slice pattern, Slice subject);

}  // namespace kv
