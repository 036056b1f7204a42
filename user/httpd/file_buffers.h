// The files' bytes in DMA-heap buffers, prepared once at startup, so a
// response's body is pushed from them by reference and never copied per
// request (the response head goes in its own small buffer). A file larger
// than one buffer is split into chunks of kChunk bytes.
//
// Sources:
//   from_archive  a whole archive in memory (linked into the app, or built
//                 from a directory on Linux): each file copied once
//   from_disk     the archive on the machine's block device (PDPIX storage
//                 queue): the index is read first, then each file's sectors
//                 straight into their buffers - no copy at all
#pragma once

#include <demi/types.h>
#include <stddef.h>
#include <stdint.h>

#include "user/httpd/site.h"

namespace httpd {

constexpr uint32_t kChunk = 64 * 1024;
constexpr uint32_t kMaxChunks = 16;  // files up to 1 MiB

struct FileChunks {
    demi_sgarray_t chunk[kMaxChunks];
    uint32_t count = 0;
};

class FileBuffers {
public:
    // Loads `site` from archive[0, n) and copies every file into buffers.
    // False (with *why) for a malformed archive or a full DMA heap.
    bool from_archive(Site& site, const uint8_t* archive, size_t n, const char** why);
    // Reads the archive from the block device at byte 0 (demi_init done).
    bool from_disk(Site& site, const char** why);

    const FileChunks& chunks(const Site& site, const File* f) const { return m_files[f - &site.file(0)]; }

private:
    bool alloc_chunks(const File& f, FileChunks* out, const char** why);

    FileChunks m_files[kMaxFiles];
    // The disk's index, kept: the Site's paths point into it.
    uint8_t m_index[32 * 1024];
};

}  // namespace httpd
