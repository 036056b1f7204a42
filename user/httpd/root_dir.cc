#include "user/httpd/root_dir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "user/httpd/site.h"

namespace httpd {

namespace {

using Entry = std::pair<std::string, std::vector<uint8_t>>;

bool read_file(const std::string& path, std::vector<uint8_t>* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    uint8_t buf[16384];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
    std::fclose(f);
    return true;
}

bool walk(const std::string& dir, const std::string& prefix, std::vector<Entry>* files, int depth) {
    if (depth > 16) return false;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return false;
    bool ok = true;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const std::string path = dir + "/" + e->d_name;
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            ok = ok && walk(path, prefix + "/" + e->d_name, files, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            Entry entry{prefix + "/" + e->d_name, {}};
            ok = ok && read_file(path, &entry.second);
            files->push_back(std::move(entry));
        }
    }
    closedir(d);
    return ok;
}

void put32(std::vector<uint8_t>& a, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) a[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

bool pack_directory(const char* dir, uint8_t** out, size_t* n, const char** why) {
    std::vector<Entry> files;
    if (!walk(dir, "", &files, 0)) {
        *why = "cannot read the --root directory";
        return false;
    }
    if (files.size() > kMaxFiles) {
        *why = "too many files under --root";
        return false;
    }
    std::sort(files.begin(), files.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
    std::vector<uint8_t> a(kArchiveHeader + files.size() * kArchiveEntry, 0);
    std::memcpy(a.data(), "RGLSITE1", 8);
    put32(a, 8, static_cast<uint32_t>(files.size()));
    for (size_t i = 0; i < files.size(); ++i) {
        put32(a, kArchiveHeader + i * kArchiveEntry, static_cast<uint32_t>(a.size()));
        put32(a, kArchiveHeader + i * kArchiveEntry + 4, static_cast<uint32_t>(files[i].first.size()));
        a.insert(a.end(), files[i].first.begin(), files[i].first.end());
    }
    for (size_t i = 0; i < files.size(); ++i) {
        a.resize((a.size() + kArchiveAlign - 1) / kArchiveAlign * kArchiveAlign, 0);
        put32(a, kArchiveHeader + i * kArchiveEntry + 8, static_cast<uint32_t>(a.size()));
        put32(a, kArchiveHeader + i * kArchiveEntry + 12, static_cast<uint32_t>(files[i].second.size()));
        a.insert(a.end(), files[i].second.begin(), files[i].second.end());
    }
    put32(a, 12, static_cast<uint32_t>(a.size()));
    *out = static_cast<uint8_t*>(std::malloc(a.size()));
    if (*out == nullptr) return false;
    std::memcpy(*out, a.data(), a.size());
    *n = a.size();
    return true;
}

}  // namespace httpd
