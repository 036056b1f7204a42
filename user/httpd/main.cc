// httpd: a static-file HTTP/1.1 server written once against PDPIX (demi_*),
// for Linux (linux backend) and Ringlet (lwIP over virtio-net).
//
//   httpd [--port N] [--idle-timeout MS] [--root DIR | --root-disk] [--backend=NAME]
//
// The content tree is, by default, the site archive linked into the app
// (user/httpd/site/, packed at build time); --root-disk reads the same
// archive format from the block device (Ringlet's PDPIX storage queue);
// --root DIR (Linux) serves a real directory, packed at startup.
#include <demi/libos.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "user/httpd/file_buffers.h"
#include "user/httpd/server.h"
#include "user/httpd/site.h"
#if !defined(RINGLET_HTTPD_ON_RINGLET)
#include "user/httpd/root_dir.h"
#endif

// The build's site archive (site_archive.S).
extern "C" const uint8_t httpd_site_archive[];
extern "C" const uint8_t httpd_site_archive_end[];

namespace {

httpd::Site g_site;
httpd::FileBuffers g_files;

void say(const char* s) { (void)!write(2, s, strlen(s)); }

void say_number(uint64_t v) {
    char buf[24];
    httpd::Writer w(buf, sizeof buf);
    w.num(v);
    (void)!write(2, buf, w.size());
}

bool parse_num(const char* s, uint64_t max, uint64_t* out) {
    if (s == nullptr || *s == '\0') return false;
    uint64_t v = 0;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + static_cast<uint64_t>(*s - '0');
        if (v > max) return false;
    }
    *out = v;
    return true;
}

}  // namespace

int main(int argc, char* argv[]) {
    httpd::Config cfg;
    const char* root = nullptr;
    bool root_disk = false;
    for (int i = 1; i < argc; ++i) {
        uint64_t v = 0;
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], 65535, &v) || v == 0) return 2;
            cfg.port = static_cast<uint16_t>(v);
        } else if (strcmp(argv[i], "--idle-timeout") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], 3'600'000, &v) || v == 0) return 2;
            cfg.idle_ms = v;
        } else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if (strcmp(argv[i], "--root-disk") == 0) {
            root_disk = true;
        } else if (strncmp(argv[i], "--backend=", 10) != 0) {
            say("usage: httpd [--port N] [--idle-timeout MS] [--root DIR | --root-disk] [--backend=NAME]\n");
            return 2;
        }
    }
    demi_args args;
    memset(&args, 0, sizeof args);
    args.argc = argc;
    args.argv = argv;
    if (demi_init(&args) != 0) {
        say("httpd: demi_init failed\n");
        return 1;
    }
    const char* why = "";
    bool loaded = false;
    const char* source = "linked archive";
    if (root_disk) {
        source = "disk";
        loaded = g_files.from_disk(g_site, &why);
    } else if (root != nullptr) {
#if defined(RINGLET_HTTPD_ON_RINGLET)
        why = "--root needs a file system (Linux); use --root-disk";
#else
        source = root;
        uint8_t* archive = nullptr;
        size_t n = 0;
        loaded = httpd::pack_directory(root, &archive, &n, &why) && g_files.from_archive(g_site, archive, n, &why);
#endif
    } else {
        loaded = g_files.from_archive(g_site, httpd_site_archive,
                                      static_cast<size_t>(httpd_site_archive_end - httpd_site_archive), &why);
    }
    if (!loaded) {
        say("httpd: cannot load the content tree: ");
        say(why);
        say("\n");
        return 1;
    }
    say("httpd: ");
    say_number(g_site.count());
    say(" files from the ");
    say(source);
    say(", port ");
    say_number(cfg.port);
    say("\n");
    return httpd::serve(g_site, g_files, cfg);
}
