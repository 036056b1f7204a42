// --root DIR (Linux only): a real directory packed, at startup, into the
// same archive format the build packs (site.h), so one code path serves both.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace httpd {

// Packs the regular files under `dir` (recursively; names starting with '.'
// skipped) into a new archive in *out (malloc'd, the caller keeps it).
bool pack_directory(const char* dir, uint8_t** out, size_t* n, const char** why);

}  // namespace httpd
