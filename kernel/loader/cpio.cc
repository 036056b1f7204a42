#include "kernel/loader/cpio.h"

namespace ringlet {
namespace {

constexpr size_t kHeaderSize = 110;

Result<uint32_t> hex_field(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 0; i < 8; ++i) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return Error::BadFormat;
        v = v << 4 | d;
    }
    return v;
}

size_t align4(size_t v) { return (v + 3) & ~size_t{3}; }

}  // namespace

Result<CpioFile> CpioReader::entry_at(size_t offset, size_t* next) const {
    if (offset > m_size || m_size - offset < kHeaderSize) return Error::Truncated;
    const uint8_t* h = m_archive + offset;
    static constexpr char kMagic[] = "070701";
    for (int i = 0; i < 6; ++i)
        if (h[i] != static_cast<uint8_t>(kMagic[i])) return Error::BadFormat;
    uint32_t mode = TRY(hex_field(h + 6 + 8 * 1));
    uint32_t file_size = TRY(hex_field(h + 6 + 8 * 6));
    uint32_t name_size = TRY(hex_field(h + 6 + 8 * 11));
    if (name_size == 0) return Error::BadFormat;
    size_t name_at = offset + kHeaderSize;
    if (m_size - name_at < name_size) return Error::Truncated;
    const char* name = reinterpret_cast<const char*>(m_archive + name_at);
    if (name[name_size - 1] != '\0') return Error::BadFormat;
    size_t data_at = align4(name_at + name_size);
    if (data_at > m_size || m_size - data_at < file_size) return Error::Truncated;
    static constexpr char kTrailer[] = "TRAILER!!!";
    if (name_size == sizeof kTrailer && __builtin_memcmp(name, kTrailer, sizeof kTrailer) == 0) return Error::Empty;
    if (next) *next = align4(data_at + file_size);
    return CpioFile{name, name_size - 1, m_archive + data_at, file_size, mode};
}

Result<CpioFile> CpioReader::find(const char* name, size_t len) const {
    size_t offset = 0;
    for (;;) {
        size_t next = 0;
        auto file = entry_at(offset, &next);
        if (!file) return file.error() == Error::Empty ? Error::NotFound : file.error();
        bool regular = (file->mode & 0170000) == 0100000;
        if (regular && file->name_len == len && __builtin_memcmp(file->name, name, len) == 0) return file;
        if (next <= offset) return Error::BadFormat;
        offset = next;
    }
}

}  // namespace ringlet
