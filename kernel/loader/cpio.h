// Reader for cpio "newc" archives (the initrd): 110-byte ASCII headers
// ("070701" + 13 eight-digit hex fields), the NUL-terminated name padded to
// 4 bytes, then the data padded to 4 bytes; "TRAILER!!!" ends the archive.
// Every length is checked against the archive before use.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ringlet/result.h"

namespace ringlet {

struct CpioFile {
    const char* name;  // NUL-terminated, inside the archive
    size_t name_len;   // without the NUL
    const uint8_t* data;
    size_t size;
    uint32_t mode;
};

class CpioReader {
public:
    CpioReader(const uint8_t* archive, size_t size) : m_archive(archive), m_size(size) {}

    // The entry at byte `offset` and the offset of the one after it.
    // Empty at the trailer; BadFormat / Truncated for a damaged header.
    Result<CpioFile> entry_at(size_t offset, size_t* next) const;

    // The regular file called `name` (exactly `len` bytes); NotFound if the
    // archive ends without it; errors of entry_at on damage.
    Result<CpioFile> find(const char* name, size_t len) const;

private:
    const uint8_t* m_archive;
    size_t m_size;
};

}  // namespace ringlet
