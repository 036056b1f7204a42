// A PDPIX instance on the loopback backend for one test.
#pragma once

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <gtest/gtest.h>

#include <cstring>

#include "libos/pdpix/ringlet_demi.h"

namespace ringlet::test {

class DemiTest : public ::testing::Test {
public:
    void SetUp() override {
        char a0[] = "test";
        char a1[] = "--backend=loopback";
        char* argv[] = {a0, a1, nullptr};
        demi_args args{};
        args.argc = 2;
        args.argv = argv;
        ASSERT_EQ(demi_init(&args), 0);
    }
    void TearDown() override { EXPECT_EQ(ringlet_demi_shutdown(), 0); }

    static sockaddr_in addr(uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return a;
    }
    static const sockaddr* sa(const sockaddr_in& a) { return reinterpret_cast<const sockaddr*>(&a); }

    // A one-segment sga holding `text`.
    static demi_sgarray_t sga_of(const char* text) {
        demi_sgarray_t s = demi_sgaalloc(std::strlen(text));
        if (s.sga_numsegs == 1) std::memcpy(s.sga_segs[0].sgaseg_buf, text, std::strlen(text));
        return s;
    }
    static std::string text_of(const demi_sgarray_t& s) {
        return std::string(static_cast<const char*>(s.sga_segs[0].sgaseg_buf), s.sga_segs[0].sgaseg_len);
    }

    static constexpr timespec kZero{0, 0};
    static constexpr timespec kShort{0, 20'000'000};  // 20 ms
};

}  // namespace ringlet::test
