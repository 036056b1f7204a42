// ABI layout of the PDPIX structs: compile-time checks against Demikernel's
// C layout (packed, one segment), plus a runtime test so the file shows up.
#include <demi/types.h>
#include <gtest/gtest.h>

#include <cstddef>

static_assert(sizeof(demi_qtoken_t) == 8);
static_assert(sizeof(demi_sgaseg_t) == 12);
static_assert(sizeof(demi_sgarray_t) == 40);
static_assert(sizeof(demi_accept_result_t) == 20);
static_assert(sizeof(demi_qresult_t) == 64, "issue 4: demi_qresult_t is 64 bytes");
static_assert(sizeof(struct demi_args) == 20);
static_assert(sizeof(demi_opcode_t) == 4);
static_assert(offsetof(demi_sgarray_t, sga_numsegs) == 8);
static_assert(offsetof(demi_sgarray_t, sga_segs) == 12);
static_assert(offsetof(demi_sgarray_t, sga_addr) == 24);
static_assert(offsetof(demi_qresult_t, qr_qd) == 4);
static_assert(offsetof(demi_qresult_t, qr_qt) == 8);
static_assert(offsetof(demi_qresult_t, qr_ret) == 16);
static_assert(offsetof(demi_qresult_t, qr_value) == 24);
static_assert(offsetof(struct demi_args, argv) == 4);
static_assert(DEMI_OPC_INVALID == 0 && DEMI_OPC_PUSH == 1 && DEMI_OPC_POP == 2 && DEMI_OPC_ACCEPT == 3 &&
              DEMI_OPC_CONNECT == 4 && DEMI_OPC_CLOSE == 5 && DEMI_OPC_FAILED == 6);

TEST(PdpixSizes, MatchDemikernel) {
    EXPECT_EQ(sizeof(demi_qresult_t), 64u);
    EXPECT_EQ(sizeof(demi_sgarray_t), 40u);
}
