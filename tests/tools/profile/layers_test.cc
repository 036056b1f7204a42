#include "layers.h"

#include <gtest/gtest.h>

namespace ringlet::profile {
namespace {

Symbol app(const char* name, const char* file = "") {
    Symbol s;
    s.start = 0x1000;
    s.end = 0x1010;
    s.name = name;
    s.file = file;
    return s;
}

TEST(Classify, ByCompileUnit) {
    EXPECT_EQ(classify(app("f", "/w/drivers/virtio/net.cc")), Layer::Driver);
    EXPECT_EQ(classify(app("udp_input", "/w/build/third_party/lwip/src/core/udp.c")), Layer::Lwip);
    EXPECT_EQ(classify(app("sys_now", "/w/net/lwip/sys_glue.cc")), Layer::Lwip);
    EXPECT_EQ(classify(app("f", "/w/net/netif.cc")), Layer::NetGlue);
    EXPECT_EQ(classify(app("demi_push", "/w/libos/pdpix/demi_api.cc")), Layer::Pdpix);
    EXPECT_EQ(classify(app("f", "/w/libos/rt/executor.cc")), Layer::Executor);
    EXPECT_EQ(classify(app("f", "/w/libos/backend/ringlet_platform.cc")), Layer::LibosOther);
    EXPECT_EQ(classify(app("_start", "/w/user/rt/crt0.S")), Layer::LibosOther);
    EXPECT_EQ(classify(app("main", "/w/user/echo/echo.cc")), Layer::App);
    EXPECT_EQ(classify(app("strtoull_helper", "/w/kernel/lib/string.cc")), Layer::Libc);
}

TEST(Classify, NamesBeforeFiles) {
    // memcpy is libc wherever it was compiled; a template is filed by namespace.
    EXPECT_EQ(classify(app("memcpy", "/w/kernel/lib/string.cc")), Layer::Libc);
    EXPECT_EQ(classify(app("memset")), Layer::Libc);
    EXPECT_EQ(classify(app("ringlet::rt::poll_loop(...) [clone .actor]", "/w/net/stack.cc")), Layer::Executor);
    EXPECT_EQ(classify(app("ringlet::virtio::Virtqueue::add(...)", "/w/net/virtio_nic.cc")), Layer::Driver);
    EXPECT_EQ(classify(app("ringlet::pdpix::LibOs::wait_any()", "/w/net/x.cc")), Layer::Pdpix);
    EXPECT_EQ(classify(app("ringlet::net::Netif::transmit()")), Layer::NetGlue);
}

TEST(Classify, WithoutDebugInformation) {
    EXPECT_EQ(classify(app("__ctzdi2")), Layer::Libc);
    EXPECT_EQ(classify(app("pbuf_alloc")), Layer::Lwip);
    EXPECT_EQ(classify(app("etharp_output")), Layer::Lwip);
    EXPECT_EQ(classify(app("mystery")), Layer::Unknown);
}

TEST(Classify, KernelModuleAndPseudoSymbols) {
    Symbol k = app("memcpy", "/w/kernel/lib/string.cc");
    k.module = ModuleKind::Kernel;
    EXPECT_EQ(classify(k), Layer::Kernel);  // the kernel's own memcpy is the kernel's cost
    Symbol fw{0, 0, "[M-mode firmware]", "", ModuleKind::Kernel, false};
    EXPECT_EQ(classify(fw), Layer::Kernel);
    Symbol unknown{0, 0, "[unknown user code]", "", ModuleKind::App, false};
    EXPECT_EQ(classify(unknown), Layer::Unknown);
}

TEST(LayerNames, EveryLayerHasANameAndADescription) {
    for (size_t l = 0; l < kLayerCount; ++l) {
        EXPECT_FALSE(layer_name(static_cast<Layer>(l)).empty());
        EXPECT_FALSE(layer_description(static_cast<Layer>(l)).empty());
    }
    EXPECT_EQ(layer_name(Layer::Lwip), "lwip");
    EXPECT_EQ(layer_name(Layer::Kernel), "kernel");
}

}  // namespace
}  // namespace ringlet::profile
