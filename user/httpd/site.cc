#include "user/httpd/site.h"

#include <string.h>

namespace httpd {

namespace {

uint32_t le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

constexpr char kMagic[8] = {'R', 'G', 'L', 'S', 'I', 'T', 'E', '1'};

// Bytewise order of two paths: <0, 0, >0.
int compare(Str a, Str b) {
    const size_t n = a.n < b.n ? a.n : b.n;
    const int c = n == 0 ? 0 : memcmp(a.p, b.p, n);
    if (c != 0) return c;
    return a.n < b.n ? -1 : (a.n > b.n ? 1 : 0);
}

}  // namespace

bool Site::index_bytes(const uint8_t* header, size_t n, uint32_t* out) {
    if (n < kArchiveHeader) {
        *out = kArchiveHeader;
        return true;
    }
    if (memcmp(header, kMagic, sizeof kMagic) != 0) return false;
    const uint32_t count = le32(header + 8);
    if (count > kMaxFiles) return false;
    const size_t entries_end = kArchiveHeader + count * kArchiveEntry;
    if (n < entries_end) {
        *out = static_cast<uint32_t>(entries_end);
        return true;
    }
    uint64_t end = entries_end;
    for (uint32_t i = 0; i < count; ++i) {
        const uint8_t* e = header + kArchiveHeader + i * kArchiveEntry;
        const uint64_t path_end = static_cast<uint64_t>(le32(e)) + le32(e + 4);
        if (path_end > end) end = path_end;
    }
    if (end > le32(header + 12)) return false;
    *out = static_cast<uint32_t>(end);
    return true;
}

bool Site::load(const uint8_t* a, size_t n, bool whole, const char** why) {
    m_count = 0;
    uint32_t need = 0;
    if (!index_bytes(a, n, &need) || need > n) {
        *why = "not a site archive (bad magic, count or index)";
        return false;
    }
    const uint32_t count = le32(a + 8);
    const uint32_t total = le32(a + 12);
    if (whole && total > n) {
        *why = "archive shorter than its header says";
        return false;
    }
    for (uint32_t i = 0; i < count; ++i) {
        const uint8_t* e = a + kArchiveHeader + i * kArchiveEntry;
        const uint32_t path_off = le32(e), path_len = le32(e + 4), data_off = le32(e + 8), data_len = le32(e + 12);
        File& f = m_files[i];
        // The paths lie inside the index (index_bytes checked their ends).
        if (path_off < kArchiveHeader + count * kArchiveEntry || path_len == 0 || path_len > 1024) {
            *why = "bad path entry";
            return false;
        }
        f.path = Str(reinterpret_cast<const char*>(a + path_off), path_len);
        if (f.path[0] != '/' || (i > 0 && compare(m_files[i - 1].path, f.path) >= 0)) {
            *why = "paths not absolute, sorted and unique";
            return false;
        }
        if (data_off % kArchiveAlign != 0 || data_off < need || static_cast<uint64_t>(data_off) + data_len > total) {
            *why = "file data outside the archive";
            return false;
        }
        f.data_off = data_off;
        f.len = data_len;
        f.data = nullptr;
        f.hash = 0;
        f.content_type = content_type_for(f.path);
    }
    m_count = count;
    m_total = total;
    if (whole) {
        for (uint32_t i = 0; i < count; ++i) {
            const uint8_t* d = a + m_files[i].data_off;
            set_loaded(i, d, fnv1a64(d, m_files[i].len));
        }
    }
    return true;
}

void Site::set_loaded(uint32_t i, const uint8_t* first, uint64_t hash) {
    m_files[i].data = first;
    m_files[i].hash = hash;
}

const File* Site::find(Str path) const {
    uint32_t lo = 0, hi = m_count;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        const int c = compare(m_files[mid].path, path);
        if (c == 0) return &m_files[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return nullptr;
}

Str content_type_for(Str path) {
    struct Type {
        Str ext;
        Str type;
    };
    static const Type kTypes[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},         {".txt", "text/plain; charset=utf-8"},
        {".svg", "image/svg+xml"},             {".png", "image/png"},
        {".jpg", "image/jpeg"},                {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},                 {".ico", "image/x-icon"},
        {".wasm", "application/wasm"},         {".xml", "application/xml"},
    };
    size_t name_at = 0;  // after the last '/'
    for (size_t i = 0; i < path.n; ++i) {
        if (path[i] == '/') name_at = i + 1;
    }
    const Str name = path.from(name_at);
    for (const Type& t : kTypes) {
        if (name.n > t.ext.n && Str(name.p + name.n - t.ext.n, t.ext.n).equals_nocase(t.ext)) return t.type;
    }
    return "application/octet-stream";
}

}  // namespace httpd
