// The content tree httpd serves: a read-only archive packed at build time
// (user/httpd/pack_site.py), linked into the app or read from a disk.
//
// Archive format (all integers little-endian u32):
//   offset 0   "RGLSITE1"                      magic, 8 bytes
//   offset 8   N                               files (at most kMaxFiles)
//   offset 12  total                           bytes of the whole archive
//   offset 16  N entries of 16 bytes:          path_off, path_len, data_off, data_len
//   then the paths (absolute, "/a/b.css"), then the files' bytes, each
//   starting at a multiple of 512 (a disk sector) so a file can be read from
//   a disk straight into its own buffer. Entries are sorted by path
//   (bytewise, no duplicates), so lookup is a binary search. Offsets count
//   from the start of the archive.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/httpd/text.h"

namespace httpd {

constexpr uint32_t kMaxFiles = 256;
constexpr size_t kArchiveHeader = 16;
constexpr size_t kArchiveEntry = 16;
constexpr uint32_t kArchiveAlign = 512;

struct File {
    Str path;
    const uint8_t* data = nullptr;  // null until the bytes are there
    uint32_t data_off = 0;          // in the archive
    uint32_t len = 0;
    uint64_t hash = 0;              // fnv1a64 of the bytes: the ETag
    Str content_type;
};

class Site {
public:
    // Reads the header and index from archive[0, n); with `whole`, the files'
    // bytes must be there too and are used in place. Otherwise (the disk
    // form: only the index was read) they come later through set_loaded().
    // False with *why set for a malformed archive; the Site is then empty.
    bool load(const uint8_t* archive, size_t n, bool whole, const char** why);

    // File i's bytes are loaded (`first`: where they, or their first piece,
    // now live) and hash to `hash` (fnv1a64: the ETag).
    void set_loaded(uint32_t i, const uint8_t* first, uint64_t hash);

    uint32_t count() const { return m_count; }
    uint32_t total_bytes() const { return m_total; }
    const File& file(uint32_t i) const { return m_files[i]; }
    // The file at `path`, or null.
    const File* find(Str path) const;
    // Bytes of archive the index occupies (the header, entries and paths).
    static bool index_bytes(const uint8_t* header, size_t n, uint32_t* out);

private:
    File m_files[kMaxFiles];
    uint32_t m_count = 0;
    uint32_t m_total = 0;
};

// The Content-Type for a path, by its extension ("application/octet-stream"
// when unknown).
Str content_type_for(Str path);

}  // namespace httpd
