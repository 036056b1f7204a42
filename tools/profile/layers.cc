// Layer classification (layers.h).
#include "layers.h"

namespace ringlet::profile {
namespace {

constexpr std::array<std::string_view, kLayerCount> kNames = {
    "driver", "lwip", "net-glue", "pdpix", "executor", "libos-other", "app", "libc", "kernel", "unknown"};
constexpr std::array<std::string_view, kLayerCount> kDescriptions = {
    "drivers/virtio",
    "third_party/lwip, net/lwip (port)",
    "net/ (queues, netif, pbufs around lwIP)",
    "libos/pdpix",
    "libos/rt",
    "other libos/, user/rt",
    "user/<app>",
    "memcpy/memset/..., libgcc",
    "kernel ELF, S-mode and M-mode",
    "no symbol"};

bool has_dir(std::string_view file, std::string_view dir) { return file.find(dir) != std::string_view::npos; }

bool is_libc_name(std::string_view n) {
    constexpr std::string_view kNames[] = {"memcpy",  "memmove", "memset",  "memcmp",  "bcmp",   "strlen",
                                           "strnlen", "strcmp",  "strncmp", "strchr",  "strrchr", "strcpy",
                                           "strncpy", "strstr",  "memchr",  "strtoul", "strtol"};
    for (std::string_view k : kNames)
        if (n == k) return true;
    return false;
}

// lwIP's C functions by prefix, for a build without debug information.
bool is_lwip_name(std::string_view n) {
    constexpr std::string_view kPrefixes[] = {"pbuf_",  "udp_",    "tcp_",    "ip4_",     "ip_",   "etharp_",
                                              "ethernet_", "netif_", "lwip_", "mem_",     "memp_", "sys_",
                                              "inet_chksum", "inet_cksum", "icmp_", "raw_", "igmp_", "dhcp_",
                                              "dns_",   "ipfrag_", "ip_reass"};
    for (std::string_view p : kPrefixes)
        if (n.starts_with(p)) return true;
    return false;
}

}  // namespace

std::string_view layer_name(Layer l) { return kNames[static_cast<size_t>(l)]; }
std::string_view layer_description(Layer l) { return kDescriptions[static_cast<size_t>(l)]; }

Layer classify(const Symbol& s) {
    if (s.module == ModuleKind::Kernel) return Layer::Kernel;
    if (!s.has_start) return Layer::Unknown;  // "[unknown user code]"
    if (is_libc_name(s.name)) return Layer::Libc;
    // A template or inline function is compiled into the unit that uses it
    // (rt::poll_loop into net/stack.cc): its namespace says where it is from.
    const std::string_view n = s.name;
    if (n.starts_with("ringlet::virtio::")) return Layer::Driver;
    if (n.starts_with("ringlet::net::")) return Layer::NetGlue;
    if (n.starts_with("ringlet::pdpix::")) return Layer::Pdpix;
    if (n.starts_with("ringlet::rt::")) return Layer::Executor;
    const std::string_view f = s.file;
    if (!f.empty()) {
        if (has_dir(f, "/drivers/virtio/")) return Layer::Driver;
        if (has_dir(f, "/third_party/lwip/") || has_dir(f, "/net/lwip/")) return Layer::Lwip;
        if (has_dir(f, "/net/")) return Layer::NetGlue;
        if (has_dir(f, "/libos/pdpix/")) return Layer::Pdpix;
        if (has_dir(f, "/libos/rt/")) return Layer::Executor;
        if (has_dir(f, "/libos/") || has_dir(f, "/user/rt/")) return Layer::LibosOther;
        if (has_dir(f, "/kernel/lib/")) return Layer::Libc;  // string.cc linked into apps
        if (has_dir(f, "/user/")) return Layer::App;
        if (has_dir(f, "/libgcc")) return Layer::Libc;
    }
    // No compile unit: fall back on names.
    if (is_lwip_name(n)) return Layer::Lwip;
    if (n.starts_with("__")) return Layer::Libc;  // libgcc: __ctzdi2, __muldi3, ...
    return Layer::Unknown;
}

}  // namespace ringlet::profile
