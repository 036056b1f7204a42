// The site archive: the build's packer (pack_site.py) and --root's packer
// (root_dir.cc) write the same bytes; the reader finds files, types them and
// refuses malformed archives.
#include "user/httpd/site.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "user/httpd/root_dir.h"

namespace httpd {
namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// A temporary directory with a few files.
struct TempSite {
    std::string dir;
    TempSite() {
        char tmpl[] = "/tmp/httpd_site_XXXXXX";
        dir = mkdtemp(tmpl);
        mkdir((dir + "/sub").c_str(), 0755);
        write_file(dir + "/index.html", "<p>hi</p>\n");
        write_file(dir + "/sub/a.css", "p{}\n");
        write_file(dir + "/empty.txt", "");
        write_file(dir + "/.hidden", "secret");
    }
    ~TempSite() { (void)!system(("rm -rf " + dir).c_str()); }
};

std::vector<uint8_t> pack(const std::string& dir) {
    uint8_t* p = nullptr;
    size_t n = 0;
    const char* why = "";
    EXPECT_TRUE(pack_directory(dir.c_str(), &p, &n, &why)) << why;
    std::vector<uint8_t> v(p, p + n);
    free(p);
    return v;
}

std::string str(Str s) { return std::string(s.p, s.n); }

TEST(HttpdSite, LoadsAPackedDirectory) {
    TempSite t;
    const std::vector<uint8_t> a = pack(t.dir);
    Site site;
    const char* why = "";
    ASSERT_TRUE(site.load(a.data(), a.size(), true, &why)) << why;
    EXPECT_EQ(site.count(), 3u) << "dot files are left out";
    const File* f = site.find("/sub/a.css");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data), f->len), "p{}\n");
    EXPECT_EQ(str(f->content_type), "text/css; charset=utf-8");
    EXPECT_EQ(f->hash, fnv1a64(reinterpret_cast<const uint8_t*>("p{}\n"), 4));
    EXPECT_EQ(f->data_off % kArchiveAlign, 0u);
    ASSERT_NE(site.find("/empty.txt"), nullptr);
    EXPECT_EQ(site.find("/empty.txt")->len, 0u);
    EXPECT_EQ(site.find("/.hidden"), nullptr);
    EXPECT_EQ(site.find("/sub"), nullptr);
    EXPECT_EQ(site.find("/index.htm"), nullptr);
}

TEST(HttpdSite, BuildPackerAndRootPackerAgree) {
    TempSite t;
    const std::string out = t.dir + ".rgl";
    ASSERT_EQ(system(("python3 " RINGLET_HTTPD_PACKER " " + out + " " + t.dir).c_str()), 0);
    std::vector<uint8_t> py = read_bytes(out);
    std::remove(out.c_str());
    std::vector<uint8_t> cc = pack(t.dir);
    EXPECT_EQ(py.size() % 512, 0u) << "the build's archive is a whole-sector disk image";
    cc.resize(py.size(), 0);
    EXPECT_EQ(py, cc);
}

TEST(HttpdSite, TheBuildsDefaultSite) {
    const std::vector<uint8_t> a = read_bytes(RINGLET_HTTPD_SITE_ARCHIVE);
    Site site;
    const char* why = "";
    ASSERT_TRUE(site.load(a.data(), a.size(), true, &why)) << why;
    ASSERT_NE(site.find("/index.html"), nullptr);
    ASSERT_NE(site.find("/style.css"), nullptr);
    ASSERT_NE(site.find("/1k.bin"), nullptr);
    EXPECT_EQ(site.find("/1k.bin")->len, 1024u);
    ASSERT_NE(site.find("/64k.bin"), nullptr);
    EXPECT_EQ(site.find("/64k.bin")->len, 65536u);
}

TEST(HttpdSite, IndexReadInPieces) {
    TempSite t;
    const std::vector<uint8_t> a = pack(t.dir);
    uint32_t need = 0;
    ASSERT_TRUE(Site::index_bytes(a.data(), 4, &need));
    EXPECT_EQ(need, kArchiveHeader);
    ASSERT_TRUE(Site::index_bytes(a.data(), kArchiveHeader, &need));
    EXPECT_EQ(need, kArchiveHeader + 3 * kArchiveEntry);
    ASSERT_TRUE(Site::index_bytes(a.data(), need, &need));
    Site site;
    const char* why = "";
    ASSERT_TRUE(site.load(a.data(), need, false, &why)) << why;
    EXPECT_EQ(site.find("/index.html")->data, nullptr) << "the bytes come later (the disk form)";
}

void put32(std::vector<uint8_t>& a, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) a[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(HttpdSite, MalformedArchivesRefused) {
    TempSite t;
    const std::vector<uint8_t> good = pack(t.dir);
    auto refused = [](std::vector<uint8_t> a) {
        Site site;
        const char* why = "";
        const bool ok = site.load(a.data(), a.size(), true, &why);
        return !ok && site.count() == 0;
    };
    EXPECT_TRUE(refused(std::vector<uint8_t>(good.begin(), good.begin() + 10)));
    std::vector<uint8_t> a = good;
    a[0] = 'X';
    EXPECT_TRUE(refused(a)) << "magic";
    a = good;
    put32(a, 8, kMaxFiles + 1);
    EXPECT_TRUE(refused(a)) << "count";
    a = good;
    put32(a, 12, static_cast<uint32_t>(good.size() + 1));
    EXPECT_TRUE(refused(a)) << "total past the end";
    a = good;
    put32(a, kArchiveHeader + 12, 1u << 30);
    EXPECT_TRUE(refused(a)) << "data past the end";
    a = good;
    put32(a, kArchiveHeader + 8, 1);
    EXPECT_TRUE(refused(a)) << "data not aligned";
    a = good;
    put32(a, kArchiveHeader + 4, 1u << 20);
    EXPECT_TRUE(refused(a)) << "path past the end";
    a = good;
    put32(a, kArchiveHeader + 0, 0);
    EXPECT_TRUE(refused(a)) << "path inside the header";
    a = good;
    // Swap the first two entries: no longer sorted.
    std::swap_ranges(a.begin() + kArchiveHeader, a.begin() + kArchiveHeader + kArchiveEntry,
                     a.begin() + kArchiveHeader + kArchiveEntry);
    EXPECT_TRUE(refused(a)) << "unsorted";
}

TEST(HttpdSite, ContentTypes) {
    EXPECT_EQ(str(content_type_for("/a.HTML")), "text/html; charset=utf-8");
    EXPECT_EQ(str(content_type_for("/x/y.png")), "image/png");
    EXPECT_EQ(str(content_type_for("/x.js")), "text/javascript; charset=utf-8");
    EXPECT_EQ(str(content_type_for("/.css")), "application/octet-stream") << "a name, not an extension";
    EXPECT_EQ(str(content_type_for("/x.css/y")), "application/octet-stream");
    EXPECT_EQ(str(content_type_for("/1k.bin")), "application/octet-stream");
}

}  // namespace
}  // namespace httpd
